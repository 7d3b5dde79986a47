"""What the CLI and the dashboard ask of Temporal: start a batch, answer a gate, wait, cancel
(batches), and the dashboard's blocking calls (ui_actions).

Import from the modules: ``batches`` for the CLI, ``ui_actions`` for the dashboard."""
