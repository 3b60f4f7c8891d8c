"""replgen: compile a database-replication topology into deployable infrastructure."""

__version__ = "0.1.0"
