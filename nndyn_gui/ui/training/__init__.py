"""The window's side of training: the controller and the engine's Qt adapter."""
