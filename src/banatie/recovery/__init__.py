"""Recovery from crashes: in-flight work has an owner with a heartbeat (a `workers` row per
server process); work whose owner went silent is marked failed (`INTERRUPTED`) by any replica,
and blobs no image row points at are collected (`banatie gc`)."""
