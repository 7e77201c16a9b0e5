"""`imsync package`: build the deployment zips for FunctionGraph or AWS Lambda.

Layouts (under OUT/<platform>-py<version>/), one entry per directory of functions/:

- functiongraph: one self-contained zip per function: `handler.py` of that function at the root
  (handler `handler.handler`), the part of the `imsync` package the handlers import and the locked
  runtime dependencies beside it.
- aws: `layer.zip` with everything shared under `python/` (the directory Lambda puts on sys.path
  for layers), and one small zip per function holding only its handler directory.

What goes in, and why (docs/deploy.md has the measured sizes):

- The dependencies are exactly those of the lock file requirements/functions-py<version>.txt (made
  with uv, with hashes), fetched as manylinux2014 x86_64 wheels for the chosen CPython version, so
  the build works from macOS or Windows too and gives the same files on every machine.
- Parts of those distributions that no function imports (DROPPED) are left out. `python -X
  importtime` on the unpacked zips shows what the handlers load; tests/deploy fails if a newer
  release starts importing a dropped part.
- Of imsync itself, only the modules that the handlers import, directly or lazily inside a
  function, are shipped: the import graph is read from the sources (never the emulator, the CLI,
  the demo or the operator commands).
- Every module is precompiled to `__pycache__/*.cpython-3XX.pyc` in unchecked-hash mode: the
  import system then loads the .pyc without comparing the source's mtime, which an unzip does not
  reliably keep, and the function's code directory is read-only, so a rejected .pyc would be
  recompiled in memory at every cold start. The .py files stay for tracebacks. Compiling needs an
  interpreter of the target version (the .pyc format is version-specific); one is looked up on
  PATH and in pyenv, or given with --compile-with.
- Zip entries are sorted, with fixed times and modes, and the .pyc are written with a fixed hash
  seed: building the same commit twice gives byte-identical zips.

The modules: `contents` says what goes in (the function directories, the lock, the imsync modules the
handlers import), `tree` lays the files out and precompiles them, `build` writes the zips, `command` is
the click command.
"""

from __future__ import annotations

from imsync.domain.errors import ImsyncError


class PackagingError(ImsyncError):
    """The deployment zips could not be built; the message says why and what to do."""
