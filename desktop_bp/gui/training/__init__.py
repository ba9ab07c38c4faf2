"""The Training tab and the settings column: hyperparameters, run controls, the training
worker and its runner, the live plots and the gradient panel, and the buffers behind them."""
