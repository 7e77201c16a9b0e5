"""imsync's benchmarks: cold start, API calls against the minimum, scale, emulator throughput.

Run ``python -m benchmarks`` (``--quick`` for small sizes, ``--only NAME`` for one section); see RESULTS.md.
"""
