"""Every error a user can fix, in one place, free of heavy imports.

The CLI catches `ProjectError` once and prints its message as one line (no
traceback), so each message must say what is wrong and what to do. A new
stage adds its error here as a subclass; code raises the most specific one.
"""

from __future__ import annotations


class ProjectError(Exception):
    """A step failed for a reason the user can fix; the message says how."""


class ConfigError(ProjectError):
    """A configuration file is missing, not valid YAML, or breaks its schema."""


class ContractError(ConfigError):
    """The data contract is missing, unreadable or inconsistent."""


class TrainingConfigError(ConfigError):
    """The model configuration is invalid or contradicts the data contract."""


class GateConfigError(ConfigError):
    """`config/gates.yaml` is missing or invalid."""


class DeployConfigError(ConfigError):
    """`config/deploy.yaml` is missing, unreadable or invalid."""


class LoadTestError(ProjectError):
    """The load test could not run (as opposed to running and failing the gate)."""


class DataFileError(ProjectError):
    """A data file cannot be read as a table; the message says why and what to do."""


class DataValidationError(ProjectError):
    """The data broke the contract; the message is the table of failed checks.

    Training refuses such data and the CLI prints the message as is, so a data
    scientist reads the same table wherever validation runs.
    """


class TrainingDataError(ProjectError):
    """The typed data cannot be trained on (unknown labels, a single class)."""


class ModelNotFoundError(ProjectError):
    """No trained model where one is expected; the message says how to make one."""


class StaleModelError(ProjectError):
    """The saved model was trained under another data contract than the current one."""


class TrackingError(ProjectError):
    """The model registry cannot do what was asked (no server, unknown version)."""


class TrackingServerError(ProjectError):
    """`tracking-server` cannot start: a missing password, no PostgreSQL, an unreachable folder."""


class MetricsFileError(ProjectError):
    """A metrics record is missing, not JSON, or not shaped like the ones `train` writes."""


class BaselineError(ProjectError):
    """The baseline exists but cannot be read."""


class PullRequestCommentError(ProjectError):
    """The report comment cannot be posted: bad run inputs, or GitHub's API refused."""


class ModelLoadError(ProjectError):
    """The service cannot load its model folder; the message says what to do."""


class BatchInputError(ProjectError):
    """A file to score cannot be read, lacks columns, or holds rows that break the contract."""


class FaultConfigError(ConfigError):
    """MLOPS_FAULT holds a value the service does not know."""


class ServiceStartError(ProjectError):
    """The service exited or did not become ready in time; the message has its last log lines."""


class ImageError(ProjectError):
    """The image could not be built, pushed or failed its smoke test."""


class ContainerEngineError(ImageError):
    """No usable container engine, a failed build, or a container that did not start."""


class DeployError(ProjectError):
    """A deploy cannot start or continue (shown without traceback)."""


class DriftError(ProjectError):
    """Drift checking cannot run; the message says what to fix."""


class DriftConfigError(ConfigError, DriftError):
    """`config/drift.yaml` is missing, unreadable or invalid."""


class FetchError(ProjectError):
    """The prediction log could not be copied; the message names the source."""
