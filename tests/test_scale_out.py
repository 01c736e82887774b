"""The multi-device paths this 2-core machine cannot run, parsed and dry-run: accelerate loads
every config under recipes/accelerate/, FSDP's final save is switched to a full state dict, and
a run on an accelerator other than CUDA (XPU, MPS, ...) is not pushed onto the CPU."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from accelerate.commands.config.config_args import load_config_from_file

from instructrec_peft.config import InstructRecConfig
from instructrec_peft.training.tuning import full_state_dict_for_saving

CONFIGS = Path(__file__).resolve().parents[1] / "recipes" / "accelerate"


@pytest.mark.parametrize("name, kind, extra", [
    ("cpu.yaml", "NO", {"use_cpu": True}), ("single-gpu.yaml", "NO", {}), ("multi-gpu.yaml", "MULTI_GPU", {}),
    ("fsdp.yaml", "FSDP", {"fsdp_config": {"fsdp_version": 2, "fsdp_state_dict_type": "SHARDED_STATE_DICT"}}),
    ("deepspeed-zero2.yaml", "DEEPSPEED", {"deepspeed_config": {"zero_stage": 2}}),
    ("deepspeed-zero3.yaml", "DEEPSPEED", {"deepspeed_config": {"zero_stage": 3, "zero3_save_16bit_model": True}}),
])
def test_accelerate_loads_every_launch_config(name, kind, extra):
    config = load_config_from_file(str(CONFIGS / name))
    assert config.distributed_type.name == kind
    for section, expected in extra.items():
        if isinstance(expected, dict):
            assert {k: getattr(config, section)[k] for k in expected} == expected
        else:
            assert getattr(config, section) == expected
    assert sorted(p.name for p in CONFIGS.glob("*.yaml")) == sorted(
        ["cpu.yaml", "single-gpu.yaml", "multi-gpu.yaml", "fsdp.yaml", "deepspeed-zero2.yaml", "deepspeed-zero3.yaml"])


def test_fsdp_final_save_gathers_a_full_state_dict(monkeypatch):
    from accelerate.utils import FullyShardedDataParallelPlugin
    from torch.distributed.fsdp import FullStateDictConfig, StateDictType

    # The plugin as `accelerate launch --config_file fsdp.yaml` builds it: from the config's keys as variables.
    for key, value in load_config_from_file(str(CONFIGS / "fsdp.yaml")).fsdp_config.items():
        monkeypatch.setenv(key.upper(), str(value).lower() if isinstance(value, bool) else str(value))
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    plugin = FullyShardedDataParallelPlugin()
    assert plugin.state_dict_type == StateDictType.SHARDED_STATE_DICT
    trainer = SimpleNamespace(is_fsdp_enabled=True, accelerator=SimpleNamespace(state=SimpleNamespace(
        fsdp_plugin=plugin)))
    full_state_dict_for_saving(trainer)
    assert plugin.state_dict_type == StateDictType.FULL_STATE_DICT
    assert isinstance(plugin.state_dict_config, FullStateDictConfig) and plugin.state_dict_config.rank0_only
    full_state_dict_for_saving(SimpleNamespace(is_fsdp_enabled=False))  # DDP or one device: nothing to do


@pytest.mark.parametrize("accelerator, use_cpu", [(True, False), (False, True)])
def test_a_non_cuda_accelerator_keeps_the_run(monkeypatch, tmp_path, accelerator, use_cpu):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: accelerator)  # e.g. an XPU
    config = InstructRecConfig(output_dir=str(tmp_path), report_to="none")
    assert config.use_cpu is use_cpu and config.dataloader_pin_memory is False
