"""The CLI's commands, one module per command or group, loaded when used (start-up time)."""
