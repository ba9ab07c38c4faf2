"""The Evaluation tab: confusion matrix, per-class accuracy and a gallery of mistakes."""
