"""The only package that imports SpiffWorkflow. The service sees this facade and nothing else."""

from .compiler import CompiledProcess, InvalidProcess, compile_process, peek_process_id
from .lint import Issue, LintReport, UserTaskRef
from .runtime import (
    Case,
    Engine,
    EngineError,
    LoadedSpec,
    MessageNotAccepted,
    OutgoingMessage,
    ScriptFailure,
    TaskNotReady,
    TaskView,
)

__all__ = [
    "Case", "CompiledProcess", "Engine", "EngineError", "InvalidProcess", "Issue", "LintReport", "LoadedSpec",
    "MessageNotAccepted", "OutgoingMessage", "ScriptFailure", "TaskNotReady", "TaskView", "UserTaskRef",
    "compile_process", "peek_process_id",
]
