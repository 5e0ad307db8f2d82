"""The desk's configuration: the YAML file that describes one consultation desk, and its loader."""

from config.desk import Choice, ConfigError, DeskConfig, Municipality, load_desk_config

__all__ = ["Choice", "ConfigError", "DeskConfig", "Municipality", "load_desk_config"]
