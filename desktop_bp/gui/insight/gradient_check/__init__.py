"""The Gradient check tab: backprop's gradients against the numerical gradient."""
