"""Token counting: encodings (``encodings``), what a request is (``requests``), readers of
files (``readers``), the counting engine (``engine``), whole counts (``count``), samples
(``sample``) and the result (``result``). Kept free of imports: a quote that reads no file
never loads tiktoken."""
