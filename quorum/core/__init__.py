"""The pure decision core: sans-I/O, deterministic, no clock, no randomness of its own.

Time arrives as an argument (a monotonic reading in seconds), messages arrive as values, decisions
leave as values. ``sim/`` and ``quorum.live`` drive these machines; neither re-implements a decision.
"""

from quorum.core.config import Consistency, Policy, QuorumConfig, Site
from quorum.core.messages import (
    SERVING_ROLES,
    Action,
    Decision,
    ForcedTakeover,
    Input,
    Message,
    MirrorWriteFailed,
    Mode,
    OperatorResult,
    PeerHeartbeat,
    PersistSite,
    PersistWitness,
    ResyncDone,
    ResyncFailed,
    Role,
    RoleChanged,
    Send,
    SiteDurable,
    StartResync,
    Switchover,
    Verdict,
    Want,
    WitnessDurable,
    WitnessReply,
    WitnessRequest,
    WriteAuthority,
)
from quorum.core.policies import POLICIES, PolicySpec, spec
from quorum.core.site import TRANSITIONS, InvalidTransition, SiteMachine
from quorum.core.witness import WitnessMachine

__all__ = [
    "POLICIES",
    "SERVING_ROLES",
    "TRANSITIONS",
    "Action",
    "Consistency",
    "Decision",
    "ForcedTakeover",
    "Input",
    "InvalidTransition",
    "Message",
    "MirrorWriteFailed",
    "Mode",
    "OperatorResult",
    "PeerHeartbeat",
    "PersistSite",
    "PersistWitness",
    "Policy",
    "PolicySpec",
    "QuorumConfig",
    "ResyncDone",
    "ResyncFailed",
    "Role",
    "RoleChanged",
    "Send",
    "Site",
    "SiteDurable",
    "SiteMachine",
    "StartResync",
    "Switchover",
    "Verdict",
    "Want",
    "WitnessDurable",
    "WitnessMachine",
    "WitnessReply",
    "WitnessRequest",
    "WriteAuthority",
    "spec",
]
