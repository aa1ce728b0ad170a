"""Packaging for keras_zoo.

``ops/``, ``train/`` and ``export/`` sit at the top of the repository but are
installed as ``keras_zoo.ops``, ``keras_zoo.train`` and ``keras_zoo.export``:
the top-level names belong to other PyPI projects (see DESIGN.md).
"""

from setuptools import find_packages, setup

SUBPACKAGE_DIRS = {"keras_zoo.ops": "ops", "keras_zoo.train": "train", "keras_zoo.export": "export"}


# The documentation site (mkdocs.yml, mkdocs_hooks.py); tested: mkdocs 1.6.1, mkdocs-material
# 9.8.2, mkdocstrings 1.0.8, mkdocstrings-python 2.0.11. tests/test_docs.py builds it.
DOCS = ["mkdocs>=1.6.1", "mkdocs-material>=9.8", "mkdocstrings[python]>=1.0.8",
        "mkdocstrings-python>=2.0.11"]
# analog-nasbench 0.1.3 imports pkg_resources, which setuptools 81 removed (torch needs >= 77).
NASBENCH = ["analog-nasbench", "setuptools>=77,<81"]


def _packages():
    packages = find_packages(include=["keras_zoo", "keras_zoo.*"])
    for name, directory in SUBPACKAGE_DIRS.items():
        packages.append(name)
        packages += [f"{name}.{sub}" for sub in find_packages(where=directory)]
    return packages


setup(
    name="keras_zoo",
    version="0.1.0",
    description="Keras 3 implementations of ResNet, Swapout, Concrete, NAS and Mask R-CNN.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=_packages(),
    package_dir={"keras_zoo": "keras_zoo", **SUBPACKAGE_DIRS},
    install_requires=[
        "tensorflow>=2.21",
        "keras>=3.10",
        "numpy",
        "pycocotools",
        "scikit-learn",  # ships the quick-start digits dataset
        "pillow",  # PNG grids and image files
        "matplotlib",  # every chart (train/plots.py); tested: 3.11
        "tensorboard",  # keras.callbacks.TensorBoard in training runs
        "ai-edge-litert",  # LiteRT interpreter that verifies TFLite exports
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-timeout", "pytest-xdist", "ruff",
                 "onnx", "onnxruntime", "tf2onnx", "tensorflow-serving-api", "ray>=2.40",
                 *NASBENCH,  # the NAS-Bench-201 reward's table (the nasbench extra)
                 # Mask R-CNN parity with torchvision (run in a subprocess: torch first)
                 "torch==2.14.1", "torchvision==0.29.1",
                 *DOCS],  # tests/test_docs.py: the docs' code and `mkdocs build --strict`
        "onnx": ["onnx", "onnxruntime", "tf2onnx"],  # tested: 1.23 / 1.32 / 1.17
        "serving": ["tensorflow-serving-api"],  # gRPC PredictRequest for TF Serving clients
        "torch": ["torch"],  # models.mask_rcnn.from_torchvision reading a .pth file
        "ray": ["ray>=2.40"],  # keras-zoo search --executor ray; tested: 2.60 on Python 3.11
        # train.nas.benchmarks.NASBench201: the 15,625 cells' CIFAR-10 accuracies; tested: 0.1.3
        "nasbench": NASBENCH,
        "docs": DOCS,  # mkdocs serve / mkdocs build: the guides and the API reference
    },
    entry_points={"console_scripts": ["keras-zoo = keras_zoo.train.cli:main"]},
)
