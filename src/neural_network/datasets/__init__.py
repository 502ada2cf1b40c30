"""Small real data sets bundled with the package, to train on without a download.

=================  ============  ==========  ====================================
name               task          X           licence
=================  ============  ==========  ====================================
``breast_cancer``  binary        569 x 30    CC BY 4.0 (UCI)
``diabetes``       regression    442 x 10    none stated (Efron et al., 2004)
``iris``           multiclass    150 x 4     CC BY 4.0 (UCI)
``wine``           multiclass    178 x 13    CC BY 4.0 (UCI)
=================  ============  ==========  ====================================

Each ``load_<name>()`` (or ``load_dataset(name)``) reads its CSV file from ``data/``
when called, never at import, and returns a :class:`Dataset`. ``data/SOURCES.md``
holds the source, citation and licence of each file.
"""

from neural_network.datasets._dataset import Dataset as Dataset
from neural_network.datasets._dataset import Task as Task
from neural_network.datasets._loaders import DATASET_NAMES as DATASET_NAMES
from neural_network.datasets._loaders import load_breast_cancer as load_breast_cancer
from neural_network.datasets._loaders import load_dataset as load_dataset
from neural_network.datasets._loaders import load_diabetes as load_diabetes
from neural_network.datasets._loaders import load_iris as load_iris
from neural_network.datasets._loaders import load_wine as load_wine

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "Task",
    "load_breast_cancer",
    "load_dataset",
    "load_diabetes",
    "load_iris",
    "load_wine",
]
