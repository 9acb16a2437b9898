"""mutualist: a self-hosted platform to build, operate and prove the value of a partner ecosystem."""

__version__ = "0.1.0"
