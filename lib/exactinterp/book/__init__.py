"""Helpers for the book's chapters and the tests, never for users of the engine.

``families`` (the one registry of dataset families: valid, adversarial, invalid, figure data),
``instances`` (random tokens and layers for the lemma chapters), ``experiments`` (measurements
that run the engine many times), ``plotting`` (the paper-like style) and the figure modules
``lemma_figures``, ``hardmax_figures``, ``softmax_figures``; ``proofmap`` is the book's Sphinx
extension (statement metadata and the proof map), loaded by the build only.
"""
