"""The public result contract: versioned payloads and their mapping to the store's rows."""

from trading_assets.contract.v1alpha1 import (
    CONTRACT_VERSION,
    STAGE_PROGRESS,
    STAGES,
    ModelDayStatus,
    SymbolDecision,
    decision_from_row,
    decision_row,
    status_from_row,
)

__all__ = [
    "CONTRACT_VERSION",
    "STAGES",
    "STAGE_PROGRESS",
    "ModelDayStatus",
    "SymbolDecision",
    "decision_from_row",
    "decision_row",
    "status_from_row",
]
