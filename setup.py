from setuptools import find_packages, setup

setup(
    name="thespsys",
    version="0.1.0",
    description=(
        "Run eventsourcing systems as long-lived, supervised Thespian actor "
        "systems, exactly once, on SQLite or PostgreSQL."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["thespsys", "thespsys.*"]),
    package_data={"thespsys": ["py.typed"]},
    entry_points={"console_scripts": ["thespsys = thespsys.cli:main"]},
    install_requires=[
        "eventsourcing>=9.5.6,<9.6",
        "thespian==4.0.1",
        "SQLAlchemy>=2.0.30,<2.1",
        "psycopg2-binary>=2.9.9,<3",
        "rich>=13,<16",
    ],
    extras_require={
        # scripts/benchmark_orders.py draws its chart with it.
        "bench": ["matplotlib>=3.8,<4"],
        "test": [
            "matplotlib>=3.8,<4",  # the benchmark script's test writes a chart
            "pytest>=8,<10",
            "pytest-timeout>=2.3,<3",
            # eventsourcing's conformance suites need a cipher backend, and the
            # benchmark compares against eventsourcing.postgres (psycopg 3).
            "pycryptodome>=3.22,<4",
            "eventsourcing[postgres]>=9.5.6,<9.6",
            "ruff>=0.17.6,<0.18",
            "mypy>=2.4,<3",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3.11",
        "Typing :: Typed",
    ],
)
