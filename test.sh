#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs every test of the solution.
#   ./test.sh                 set-up, then: dotnet test Bert.Sharp.sln -c Release --blame, then the tokenizer tests without ICU
#   ./test.sh --setup-only    only the set-up
#   ./test.sh [dotnet test options...]   passed on to dotnet test (for example --filter "FullyQualifiedName~Tokenizer")
# What it sets up: PyTorch for python3 (Debian/Ubuntu package python3-torch), needed by the Python hand-off tests
# (tests/python/hf_mirror.py). It installs it with apt-get when it is missing and this is root (or sudo works without a
# password); otherwise it says what to install and the tests run anyway (those tests then fail and say why).
# And Hugging Face's transformers.js (npm, pinned in tests/js/package-lock.json), needed by TransformersJsTests: installed
# with npm ci into tests/js/node_modules when Node.js and npm are there; otherwise those tests fail and say why.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

has_torch() {
  local python
  for python in /usr/bin/python3 python3; do
    if command -v "$python" >/dev/null 2>&1 && "$python" -c 'import torch, numpy' >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}

setup() {
  if has_torch; then
    echo "test.sh: python3 with PyTorch found"
    return 0
  fi

  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
      sudo="sudo -n"
    else
      sudo="none"
    fi
  fi

  if ! command -v apt-get >/dev/null 2>&1 || [ "$sudo" = "none" ]; then
    echo "test.sh: warning: python3 with PyTorch is missing and cannot be installed here (needs apt-get and root)." >&2
    echo "test.sh: install it yourself (Debian/Ubuntu: sudo apt-get install -y python3-torch; elsewhere: pip install torch numpy)," >&2
    echo "test.sh: or the Python hand-off tests (PythonMirrorTests) will fail and say why." >&2
    return 0
  fi

  echo "test.sh: installing python3-torch (apt-get) for the Python hand-off tests"
  if ! { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch; } >/dev/null 2>&1; then
    echo "test.sh: warning: apt-get could not install python3-torch; the Python hand-off tests will fail and say why." >&2
    return 0
  fi

  if has_torch; then
    echo "test.sh: python3-torch installed"
  else
    echo "test.sh: warning: python3-torch installed but 'import torch, numpy' still fails; the Python hand-off tests will fail." >&2
  fi
}

setup_transformers_js() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "test.sh: warning: Node.js and npm are missing; install them (Debian/Ubuntu: apt-get install -y nodejs npm) or the" >&2
    echo "test.sh: transformers.js tests (TransformersJsTests) will fail and say why." >&2
    return 0
  fi

  # Installed already, at the version tests/js/package.json pins: nothing to do.
  local want have
  want=$(cd tests/js && node -p "require('./package.json').dependencies['@huggingface/transformers']" 2>/dev/null)
  have=$(cd tests/js && node -p "require('./node_modules/@huggingface/transformers/package.json').version" 2>/dev/null)
  if [ -n "$have" ] && [ "$have" = "$want" ]; then
    echo "test.sh: transformers.js $have found"
    return 0
  fi

  # --ignore-scripts: onnxruntime-node carries its CPU library in the package; its script would fetch CUDA libraries.
  echo "test.sh: installing transformers.js (npm ci in tests/js) for the transformers.js tests"
  if ! (cd tests/js && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >/dev/null 2>&1; then
    echo "test.sh: warning: npm ci failed in tests/js; the transformers.js tests will fail and say why." >&2
  fi
}

if [ "${1:-}" = "--setup-only" ]; then
  setup
  setup_transformers_js
  exit 0
fi

setup
setup_transformers_js
# --blame: if a native crash takes the test host down, the log names the tests that were running (a plain run says only
# "Test host process crashed").
dotnet test Bert.Sharp.sln -c Release --blame "$@"
status=$?
if [ $# -eq 0 ]; then
  # Tokenization must not depend on the platform's ICU (containers, trimmed and AOT apps run without it): the tokenizer
  # tests run a second time in a process with invariant globalization, against the same Hugging Face oracle.
  echo "test.sh: the tokenizer tests again without ICU (DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1)"
  DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 dotnet test tests/Bert.Sharp.Tests/Bert.Sharp.Tests.csproj -c Release --no-build --blame \
    --filter "FullyQualifiedName~Bert.Sharp.Tests.Tokenization" || status=1
fi
exit "$status"
