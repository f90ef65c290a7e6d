"""Helpers for the book's chapters and the tests, never for users of the engine.

``families`` (the one registry of dataset families: valid, adversarial, invalid, figure data),
``instances`` (random tokens and layers for the lemma chapters), ``experiments`` (measurements
that run the engine many times), ``plotting`` (the paper-like style, sized for the page) and the
figure modules ``lemma_figures``, ``hardmax_figures``, ``softmax_figures``, ``scaling_figures``,
``robustness_figures``; ``text`` (printed summaries wrapped to the book's column); ``proofmap`` is
the book's Sphinx extension (statement metadata, one numbering and the proof map), loaded by the
build only.
"""
