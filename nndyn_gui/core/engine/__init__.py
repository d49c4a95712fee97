"""The engine: a training session, its worker process, the messages between them."""
