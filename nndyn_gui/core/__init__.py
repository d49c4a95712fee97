"""The engine, in rooms: net/, train/, engine/, analysis/, sweep/, io/ (docs/architecture.md).

config.py, types.py and datasets.py are shared by all of them. Never imports Qt.
"""
