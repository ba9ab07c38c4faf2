"""The Hidden units tab: W1's columns as 28x28 images, live during training."""
