#!/usr/bin/env bash
# The throughput comparison (ours vs TRL SFTTrainer, MFU) on one CUDA GPU, in under 5 minutes.
#   bash recipes/bench_gpu.sh            # writes reports/throughput-gpu.md (+ .json); none is committed:
#                                        # no GPU run has been made yet
# Needs a CUDA build of torch in .venv (make install TORCH="torch==2.13.0 --index-url ...") or the
# current python; set PY=... to choose. Runs offline once the demo assets are cached.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device visible to torch')"
# Offline machines: install only what is missing, and reuse cached assets (INSTRUCTREC_HOME).
"$PY" -c "import trl, matplotlib" 2>/dev/null || "$PY" -m pip install --quiet -e ".[bench]"
"$PY" -m instructrec_peft.data.assets fetch
# bf16 autocast, the usual GPU setting; more steps and a bigger batch than on CPU, same examples and LoRA.
"$PY" recipes/bench_throughput.py --bf16 --steps 30 --batch-size 16 --eval-users 50 --sections training evaluation \
    --report reports/throughput-gpu.md "$@"
# With two GPUs or more: a 2-process DDP tuning run of the GPU config, then plain PEFT loads its adapter.
if [ "$("$PY" -c 'import torch; print(torch.cuda.device_count())')" -ge 2 ]; then
    "$PY" -m accelerate.commands.launch --config_file recipes/accelerate/multi-gpu.yaml --num_processes 2 \
        recipes/tune.py recipes/configs/gpt2-multi-gpu.yaml --max_steps 20 --output_dir outputs/ddp-2gpu
    "$PY" -c "from instructrec_peft.models.loading import load_adapter; load_adapter('outputs/ddp-2gpu'); print('2-GPU DDP adapter loads')"
fi
