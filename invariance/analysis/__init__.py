"""Small pure analyses over a study's tables (effect sizes of design factors)."""
from invariance.analysis.effects import Effect, factor_effect, factor_effects

__all__ = ["Effect", "factor_effect", "factor_effects"]
