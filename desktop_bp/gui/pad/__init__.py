"""The Draw tab: the ink canvas, the views of what the network sees and predicts, and the
replay of recorded pen trajectories onto the canvas."""
