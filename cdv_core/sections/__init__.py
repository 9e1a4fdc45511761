"""One section model for pages, slides and exports (see `base`). Importing this package registers every
section: one import line per subject module."""

from cdv_core.sections.base import (  # noqa: F401
    CATALOGUE,
    FUNDING_SOURCES,
    NO_ACTION,
    SPLIT_NOTE,
    Chiffre,
    Section,
    SectionType,
    annee_affichee,
    annee_par_defaut,
    annee_reference,
    annees_disponibles,
    build,
    empty,
    filtres_utiles,
    register,
    slide_types,
    source,
)

# Subject modules, one line each (importing one registers its sections).
# isort: off
from cdv_core.sections import vue_ensemble  # noqa: F401, E402
from cdv_core.sections import enquetes  # noqa: F401, E402
from cdv_core.sections import financeurs  # noqa: F401, E402
from cdv_core.sections import piliers  # noqa: F401, E402
from cdv_core.sections import quartiers  # noqa: F401, E402
from cdv_core.sections import engagements  # noqa: F401, E402
from cdv_core.sections import a_propos  # noqa: F401, E402
from cdv_core.sections import porteurs  # noqa: F401, E402
from cdv_core.sections import dispositifs  # noqa: F401, E402
# isort: on
