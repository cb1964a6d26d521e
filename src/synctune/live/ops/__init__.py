"""Operating a replica: the doctor's checks and the Prometheus endpoint.

Layer: the top of :mod:`synctune.live`; may import every other part of it.
"""
