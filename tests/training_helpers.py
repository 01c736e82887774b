"""Build tiny, fast configurations for training tests."""

from __future__ import annotations

from dataclasses import fields

from instructrec_peft.config import DataArguments, InstructRecConfig, ModelArguments


def tiny_configs(assets, output_dir, arch="gpt2", **overrides):
    values = {
        "model": dict(model_name_or_path=assets[arch], lora_r=4, lora_alpha=8, lora_dropout=0.0),
        "data": dict(dataset=assets["data"], examples_per_user=2, eval_users=6, num_candidates=5,
                     max_prompt_tokens=200, task_mix="matching=1"),
        "train": dict(output_dir=str(output_dir), max_steps=3, per_device_train_batch_size=4, learning_rate=1e-2,
                      logging_steps=1, save_strategy="no", report_to="none", seed=0, disable_tqdm=True,
                      lr_scheduler_type="constant", precision="fp32"),  # exact values are asserted in float32
    }
    owners = {"model": ModelArguments, "data": DataArguments, "train": InstructRecConfig}
    for key, value in overrides.items():
        for section, cls in owners.items():
            if key in {f.name for f in fields(cls)}:
                values[section][key] = value
                break
        else:
            raise KeyError(key)
    return (ModelArguments(**values["model"]), DataArguments(**values["data"]), InstructRecConfig(**values["train"]))


def yaml_config(assets, output_dir, **overrides) -> str:
    import yaml

    model, data, train = tiny_configs(assets, output_dir, **overrides)
    keys = {"model_name_or_path", "lora_r", "lora_alpha", "lora_dropout", "dataset", "examples_per_user", "eval_users",
            "num_candidates", "max_prompt_tokens", "task_mix", "output_dir", "max_steps",
            "per_device_train_batch_size", "learning_rate", "logging_steps", "save_strategy", "report_to", "seed",
            "disable_tqdm", "lr_scheduler_type", "precision"} | set(overrides)
    merged = {}
    for obj in (model, data, train):
        merged.update({k: getattr(getattr(obj, k), "value", getattr(obj, k)) for k in keys if hasattr(obj, k)})
    return yaml.safe_dump(merged)
