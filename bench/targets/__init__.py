"""`make bench`: every ratio of docs/performance.md's targets, each with its peer measured in
the same run (`python -m bench.targets --help`)."""
