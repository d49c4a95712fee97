"""The desktop app: main window, panels, training worker, dialogs."""
