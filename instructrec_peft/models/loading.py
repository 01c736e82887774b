"""Load a base model and wrap it for parameter-efficient tuning.

* :func:`load_tokenizer` / :func:`load_base_model`: any Hub id, local directory or GGUF file,
  optionally quantised by bitsandbytes (4-bit or 8-bit, on CPU or GPU);
  ``trust_remote_code`` stays off unless asked for.
* :func:`quantization_config`, :func:`peft_config`: factories from :class:`ModelArguments`.
* :func:`lora_targets`: LoRA target modules (PEFT's ``"all-linear"`` unless named). GPT-2 keeps
  its projections in ``Conv1D`` layers whose weight is stored transposed, which PEFT must be told
  (``fan_in_fan_out=True``); bitsandbytes replaces those layers with ``Linear4bit`` /
  ``Linear8bitLt``, which are not transposed, and PEFT does not notice a wrong flag. So the flag
  is read off the modules actually loaded, never off the architecture name.
* :func:`wrap_model`: k-bit preparation, gradient checkpointing, then the PEFT model.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from ..config import ModelArguments, saved_configs
from ..errors import ArgumentError, MissingDependencyError, MissingFileError
from ..run_dir import RunDir

__all__ = ["model_path", "load_tokenizer", "load_base_model", "quantization_config", "lora_targets", "peft_config",
           "wrap_model", "resolve_dtype", "is_prompt_learning", "open_adapter_dir", "load_adapter",
           "check_adapter_files", "load_adapter_tokenizer", "item_tokens_of"]

logger = logging.getLogger(__name__)

# bitsandbytes prints one warning per 8-bit matmul on CPU; it says nothing the user can act on.
warnings.filterwarnings("ignore", message="MatMul8bitLt: inputs will be cast")


def resolve_dtype(name: str) -> torch.dtype:
    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


DEMO_ALIAS = "demo"


def model_path(args: ModelArguments) -> str:
    """``args.model_name_or_path``, with "demo" resolved to the converted demo model (fetched if needed)."""
    if args.model_name_or_path == DEMO_ALIAS:
        from ..data.assets import fetch_model

        return str(fetch_model())
    _check_local_path(args.model_name_or_path)
    return args.model_name_or_path


def _not_found(path: str, err: Exception, what: str) -> str:
    """The message for a base model (or its tokenizer) that could not be found or fetched."""
    return (f"ModelArguments.model_name_or_path: {path!r}: the {what} could not be loaded "
            f"({type(err).__name__}: {str(err).splitlines()[0][:200]}); give a folder on this machine that holds it, "
            "or a Hub id (namespace/name) this machine can reach")


def load_tokenizer(args: ModelArguments):
    from transformers import AutoTokenizer

    from ..instructions.tokenization import ensure_pad_token

    kwargs = {"trust_remote_code": args.trust_remote_code}
    if args.gguf_file:
        kwargs["gguf_file"] = args.gguf_file
    path = model_path(args)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    except OSError as err:
        raise MissingFileError(_not_found(path, err, "tokenizer")) from None
    except ValueError as err:
        if "trust_remote_code" in str(err):
            raise
        raise MissingFileError(_not_found(path, err, "tokenizer")) from None
    ensure_pad_token(tokenizer)
    return tokenizer


def quantization_config(args: ModelArguments):
    """A ``BitsAndBytesConfig`` for ``args.quantization`` ("4bit", "8bit"), or ``None``."""
    if args.quantization == "none":
        return None
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise MissingDependencyError(f"quantization={args.quantization!r} needs bitsandbytes: "
                                     "pip install bitsandbytes") from None
    from transformers import BitsAndBytesConfig

    if args.quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=args.bnb_4bit_quant_type,
                              bnb_4bit_use_double_quant=args.bnb_4bit_use_double_quant,
                              bnb_4bit_compute_dtype=resolve_dtype(args.bnb_4bit_compute_dtype))


def _device_map():
    # Each process loads its copy on its own device: bitsandbytes needs the weights placed at
    # load time, and under DDP every rank holds a full replica.
    if torch.cuda.is_available():
        from accelerate import PartialState

        return {"": PartialState().local_process_index}
    return {"": "cpu"}


def load_base_model(args: ModelArguments):
    """The base causal LM, quantised if asked, weights from safetensors only."""
    from transformers import AutoModelForCausalLM

    kwargs = {"trust_remote_code": args.trust_remote_code, "dtype": resolve_dtype(args.dtype),
              "use_safetensors": not args.gguf_file}
    if args.gguf_file:
        kwargs["gguf_file"] = args.gguf_file
    quant = quantization_config(args)
    if quant is not None:
        kwargs.update(quantization_config=quant, device_map=_device_map())
    path = model_path(args)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except Exception as err:
        if type(err).__name__ == "SafetensorError":  # safetensors' own error type, not importable by name everywhere
            raise ArgumentError(f"{path}: a weights file is corrupt or truncated ({err}); download or convert it "
                                "again") from None
        if isinstance(err, OSError) or (isinstance(err, ValueError) and "Repo id" in str(err)):
            raise MissingFileError(_not_found(path, err, "model")) from None
        raise
    if model.config.pad_token_id is None and model.config.eos_token_id is not None:
        eos = model.config.eos_token_id
        model.config.pad_token_id = eos[0] if isinstance(eos, list) else eos
    return model


def _check_local_path(path: str) -> None:
    # A path-looking name that does not exist would otherwise be sent to the Hub as a repo id
    # and fail with a message about repo id syntax.
    looks_local = path.startswith((".", "/", "~")) or path.count("/") > 1 or "\\" in path
    if looks_local and not Path(path).expanduser().exists():
        raise MissingFileError(f"ModelArguments.model_name_or_path: {path} does not exist (not a folder on this "
                               "machine; a Hub id looks like namespace/name)")


def _require_safetensors(adapter_dir: Path, field: str = "") -> None:
    # PEFT would fall back to adapter_model.bin, a pickle that can run code when loaded.
    RunDir(adapter_dir).require_adapter(field)


def _is_conv1d(module: nn.Module) -> bool:
    return type(module).__name__ == "Conv1D"


def lora_targets(model: nn.Module, requested: list[str] | None = None) -> tuple[str | list[str], bool]:
    """Target modules and ``fan_in_fan_out`` for LoRA on ``model``.

    ``requested`` of ``None`` or ``["auto"]`` is PEFT's ``"all-linear"``: every linear layer but
    the output head (for GPT-2 and Llama-style models exactly their attention and MLP
    projections). Named modules must each match at least one module.
    """
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    adaptable = {name.rsplit(".", 1)[-1]: module for name, module in model.named_modules()
                 if isinstance(module, nn.Linear) or _is_conv1d(module)}
    if not requested or requested == ["auto"]:
        targets = "all-linear"
        head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
        kinds = {_is_conv1d(m) for m in model.modules()
                 if (isinstance(m, nn.Linear) or _is_conv1d(m)) and m is not head}
    else:
        targets = list(requested)
        leaves = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
        missing = [n for n in targets if n not in leaves]
        if missing:
            raise ArgumentError(f"ModelArguments.lora_target_modules: {missing} match no module of this {model_type} "
                                f"model; linear modules are {sorted(adaptable)}")
        kinds = {_is_conv1d(m) for name, m in model.named_modules() if name.rsplit(".", 1)[-1] in targets
                 and (isinstance(m, nn.Linear) or _is_conv1d(m))}
    if len(kinds) > 1:
        raise ArgumentError(f"ModelArguments.lora_target_modules: {targets} mix Conv1D and Linear layers; PEFT "
                            "applies one fan_in_fan_out to all, so target one kind")
    return targets, kinds == {True}


def trainable_token_modules(model: nn.Module, token_ids: list[int]) -> dict[str, list[int]]:
    """``trainable_token_indices`` for PEFT: the input embedding's rows ``token_ids``, and the
    output head's too when it is not tied to the input embedding (tied, PEFT follows the rows)."""
    names = {id(module): name.rsplit(".", 1)[-1] for name, module in model.named_modules()}
    embedding, head = model.get_input_embeddings(), model.get_output_embeddings()
    found = {names[id(embedding)]: list(token_ids)}
    if head is not None and head.weight.data_ptr() != embedding.weight.data_ptr():
        found[names[id(head)]] = list(token_ids)
    return found


def peft_config(args: ModelArguments, model: nn.Module, tokenizer_name_or_path: str | None = None,
                trainable_tokens: list[int] | None = None):
    """``LoraConfig`` or ``PromptTuningConfig`` for ``model``, built from ``args``; with
    ``trainable_tokens`` (item tokens) those embedding rows train with LoRA and are saved in the adapter."""
    from peft import LoraConfig, PromptTuningConfig, PromptTuningInit, TaskType

    if trainable_tokens and args.peft_method != "lora":
        raise ArgumentError(f"ModelArguments.peft_method: item tokens train with LoRA, not {args.peft_method!r}")
    if args.peft_method == "prompt_tuning":
        init = dict(prompt_tuning_init=PromptTuningInit.TEXT, prompt_tuning_init_text=args.prompt_tuning_init_text,
                    tokenizer_name_or_path=tokenizer_name_or_path or args.model_name_or_path) \
            if args.prompt_tuning_init_text else dict(prompt_tuning_init=PromptTuningInit.RANDOM)
        return PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=args.num_virtual_tokens, **init)
    names, fan_in_fan_out = lora_targets(model, args.lora_target_modules)
    extra = {"trainable_token_indices": trainable_token_modules(model, trainable_tokens)} if trainable_tokens else {}
    return LoraConfig(task_type=TaskType.CAUSAL_LM, r=args.lora_r, lora_alpha=args.lora_alpha,
                      lora_dropout=args.lora_dropout, target_modules=names, fan_in_fan_out=fan_in_fan_out, bias="none",
                      **extra)


def wrap_model(model: nn.Module, args: ModelArguments, gradient_checkpointing: bool = False,
               gradient_checkpointing_kwargs: dict | None = None, trainable_tokens: list[int] | None = None,
               config=None):
    """Prepare a (possibly quantised) base model and return it as a ``PeftModel``: with ``config``
    (a ``PeftConfig`` of the caller's, as trl's trainers take one), else the one ``args`` describes."""
    from peft import PeftModel, get_peft_model, prepare_model_for_kbit_training

    if isinstance(model, PeftModel):
        return model
    if getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False):
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=gradient_checkpointing,
            gradient_checkpointing_kwargs=gradient_checkpointing_kwargs or {"use_reentrant": False})
    elif gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs or {"use_reentrant": False})
    if gradient_checkpointing:
        # With frozen embeddings no input requires grad; checkpointed blocks would then have
        # no path for the gradient ("element 0 of tensors does not require grad").
        model.enable_input_require_grads()
    if config is not None:
        if args.init_adapter:
            raise ArgumentError("peft_config and ModelArguments.init_adapter both say how to adapt the model; give "
                                "one")
        if trainable_tokens:
            from peft import LoraConfig

            if not isinstance(config, LoraConfig):
                raise ArgumentError(f"item tokens train with LoRA; peft_config is a {type(config).__name__}")
            # The item rows are the item space's, whatever the caller's config says of other rows.
            config = dataclasses.replace(config, trainable_token_indices=trainable_token_modules(model,
                                                                                                 trainable_tokens))
        peft_model = get_peft_model(model, config)
    elif args.init_adapter:
        # The adapter's own PEFT config (rank, targets) applies; the lora_* fields are not used.
        _require_safetensors(Path(args.init_adapter), "ModelArguments.init_adapter: ")
        peft_model = PeftModel.from_pretrained(model, args.init_adapter, is_trainable=True)
    else:
        peft_model = get_peft_model(model, peft_config(args, model, getattr(model, "name_or_path", None),
                                                       trainable_tokens=trainable_tokens))
    trainable, total = peft_model.get_nb_trainable_parameters()
    method = str(peft_model.peft_config["default"].peft_type.value).lower()
    logger.info("PEFT %s: %d trainable of %d parameters (%.3f%%)", method, trainable, total, 100 * trainable / total)
    return peft_model


def open_adapter_dir(adapter_dir: str | Path) -> RunDir:
    """An adapter folder ready to read: an interrupted save finished, a killed one's staging
    removed, the weights present as safetensors, and its files those of one run (its record)."""
    run = RunDir(adapter_dir)
    run.recover()
    _require_safetensors(run.path)
    run.verify()
    return run


def load_adapter(adapter_dir: str, base=None, model_args: ModelArguments | None = None, *,
                 trust_remote_code: bool = False, tokenizer=None, opened: RunDir | None = None):
    """A tuned adapter on its base model, loaded as it was trained (same quantisation).

    ``model_args`` defaults to the model section of ``instructrec_config.json`` in the adapter
    directory, with ``trust_remote_code`` the caller's (never the folder's: see
    :func:`~instructrec_peft.config.saved_configs`); ``base`` may be an already-loaded base
    model to reuse. An adapter with item tokens
    (its manifest says so) gets the base's embeddings resized to hold them first, which is all
    plain PEFT needs too: ``base.resize_token_embeddings(len(tokenizer))``. ``tokenizer``: the
    adapter's, when the caller has loaded it already; ``opened``: what :func:`open_adapter_dir`
    returned for this folder, when the caller has opened it already (its files are not hashed again).
    """

    from peft import PeftModel

    adapter_dir = Path(adapter_dir)
    run = opened or open_adapter_dir(adapter_dir)
    if model_args is None:
        model_args = saved_configs(adapter_dir, hint="pass model_args for adapters not written by us",
                                   trust_remote_code=trust_remote_code)[0]
    tokens = item_tokens_of(adapter_dir)
    check_adapter_files(adapter_dir, tokens, tokenizer)  # before anything is allocated from what the files say
    base = base if base is not None else load_base_model(model_args)
    if tokens is not None:
        from ..instructions.item_tokens import resize_for_items

        resize_for_items(base, tokens)
    try:
        return PeftModel.from_pretrained(base, str(adapter_dir), is_trainable=False)
    except (RuntimeError, ValueError, KeyError) as err:
        trained_on = run.read_json(run.adapter_config.name).get("base_model_name_or_path")
        given = getattr(base.config, "_name_or_path", None) or type(base).__name__
        first = str(err).splitlines()[0][:300]
        raise ArgumentError(f"{adapter_dir}: the adapter does not fit this base model; it was trained on "
                            f"{trained_on!r}, the base given is {given!r} ({type(err).__name__}: {first})") from err


def load_adapter_tokenizer(adapter_dir: str | Path, trust_remote_code: bool = False):
    """The tokenizer saved with an adapter (it may hold the adapter's item tokens); a clear error
    when the folder lacks it."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(adapter_dir), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as err:
        if "trust_remote_code" in str(err):
            raise
        first = str(err).splitlines()[0][:160]
        raise MissingFileError(f"{adapter_dir}: the adapter's tokenizer cannot be loaded ({first}); a run folder "
                               "holds the tokenizer it was tuned with: copy the whole folder") from None


def check_adapter_files(adapter_dir: str | Path, tokens=None, tokenizer=None) -> None:
    """Refuse an adapter folder whose files disagree before PEFT builds anything from them: weights
    that are not a readable safetensors file, a LoRA rank that is not the weights' (``r: 1e6``
    would allocate gigabytes first), item-token rows without the manifest that maps them, or an
    item-token map that is not the tokenizer's (``first_id: 1e12`` would resize to 10^12 rows;
    ``tokenizer``: the adapter's, if already loaded)."""
    run = RunDir(adapter_dir)
    config = run.read_json(run.adapter_config.name)
    if not isinstance(config, dict):
        raise ArgumentError(f"{run.adapter_config}: expected a JSON object")
    try:
        from safetensors import safe_open

        with safe_open(str(run.adapter_weights), framework="pt") as weights:
            shapes = {key: weights.get_slice(key).get_shape() for key in weights.keys()}
    except Exception as err:  # safetensors raises its own SafetensorError, not importable by name everywhere
        raise ArgumentError(f"{run.adapter_weights}: not a readable safetensors file ({str(err)[:200]}); the file is "
                            "corrupt or truncated: tune again, or copy the adapter again") from None
    rank = config.get("r")
    ranks = {shape[0] for key, shape in shapes.items() if ".lora_A." in key and len(shape) == 2}
    if config.get("peft_type", "LORA") == "LORA" and ranks and not config.get("rank_pattern"):
        if isinstance(rank, bool) or not isinstance(rank, int) or ranks != {rank}:
            raise ArgumentError(f"{run.adapter_config}: r is {rank!r} but the weights have rank {sorted(ranks)}; the "
                                "config does not belong to these weights")
    if config.get("trainable_token_indices") and tokens is None:
        raise MissingFileError(f"{adapter_dir}: the adapter trains item-token rows, but {run.MANIFEST} (which maps "
                               "them to items) is missing; copy the whole run folder")
    if tokens is not None:
        tokenizer = tokenizer if tokenizer is not None else load_adapter_tokenizer(run.path)
        tokens.check(tokenizer, f"{run.manifest}")


def item_tokens_of(adapter_dir: str | Path):
    """The adapter's item-token map (``ItemTokens``) from its manifest, or ``None`` without item tokens."""
    from ..instructions.manifest import Manifest

    if not RunDir(adapter_dir).manifest.is_file():
        return None
    data = Manifest.load(adapter_dir).item_tokens
    if not data:
        return None
    from ..instructions.item_tokens import ItemTokens

    return ItemTokens.from_dict(data)


def is_prompt_learning(model) -> bool:
    """Whether ``model`` is a PEFT prompt-learning model (prompt tuning: virtual input tokens)."""
    peft_config = getattr(model, "peft_config", None)
    if not peft_config:
        return False
    active = peft_config.get(getattr(model, "active_adapter", "default")) or next(iter(peft_config.values()))
    return bool(getattr(active, "is_prompt_learning", False))
