"""The simulation engine: agent and graph arrays, seeded streams, the phase loop, kernels."""
