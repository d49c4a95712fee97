"""Training: the TensorFlow trainer, the numpy stepper, stop rules, live changes."""
