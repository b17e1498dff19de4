"""Full-information maximum likelihood for incomplete multivariate normal data: the public face.

Input: an ``n x p`` array with NaN for missing cells, grouped once by
:meth:`MissingPatterns.from_array`; then any mean vector ``μ`` and covariance matrix ``Σ``
(model-implied or free). Output: the log-likelihood and its gradient with respect to ``(Σ, μ)``,
casewise scores, the saturated and independence models and the unit information matrices of
``(μ, vech Σ)``. The model side only supplies ``Σ(θ)``, ``μ(θ)`` and the chain rule.

The work lives in :mod:`~semlang.estimate.missing_patterns` (data side, ``vech`` helpers),
:mod:`~semlang.estimate.fiml` (likelihood, gradient, scores),
:mod:`~semlang.estimate.fiml_h1` (saturated EM, independence model) and
:mod:`~semlang.estimate.fiml_information` (information matrices).
"""

from semlang.estimate.fiml import (
    casewise_loglik,
    casewise_scores,
    fiml_gradient,
    fiml_loglik,
    fiml_loglik_and_gradient,
)
from semlang.estimate.fiml_h1 import (
    IndependenceResult,
    SaturatedResult,
    independence_loglik,
    independence_model,
    saturated_em,
)
from semlang.estimate.fiml_information import (
    h1_information_expected,
    h1_information_firstorder,
    h1_information_observed,
)
from semlang.estimate.missing_patterns import (
    MissingPattern,
    MissingPatterns,
    unvech,
    vech,
    vech_gradient,
    vech_indices,
)

__all__ = [
    "IndependenceResult",
    "MissingPattern",
    "MissingPatterns",
    "SaturatedResult",
    "casewise_loglik",
    "casewise_scores",
    "fiml_gradient",
    "fiml_loglik",
    "fiml_loglik_and_gradient",
    "h1_information_expected",
    "h1_information_firstorder",
    "h1_information_observed",
    "independence_loglik",
    "independence_model",
    "saturated_em",
    "unvech",
    "vech",
    "vech_gradient",
    "vech_indices",
]
