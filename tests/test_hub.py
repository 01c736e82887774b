"""Push and pull over real HTTP: the real huggingface_hub client against tests/hub_server.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hub_server import HubServer
from training_helpers import tiny_configs

from instructrec_peft.hub.push import export_folder
from instructrec_peft.inference.recommender import Recommender
from instructrec_peft.inference.scoring import score_candidates
from instructrec_peft.run_dir import RunDir
from instructrec_peft.training.tuning import run_tuning

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_FAKEtokenFORtests0123456789abcdef"
BASE_REPO, ADAPTER_REPO = "test-org/tiny-gpt2", "test-user/tiny-recommender"
SPACE_REPO = ADAPTER_REPO + "-demo"
HISTORY = ["Title 1", "Title 2", "Title 3"]
CANDIDATES = ["Title 4", "Title 5", "Title 6", "Title 7"]
PROMPT = [5, 6, 7, 8, 9, 10, 11]
COMPLETIONS = [[12, 13, 0], [14, 0], [15, 16, 17, 18, 0]]

PULL = """
import json, sys
from peft import PeftModel
from transformers import AutoModelForCausalLM
from instructrec_peft.inference.recommender import Recommender
from instructrec_peft.inference.scoring import score_candidates
args = json.loads(sys.argv[1])
peft_model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(args["base"]), args["repo"])
# With base_in_hub the Recommender finds the base by the id the adapter names; else it gets a local copy.
rec = Recommender.from_pretrained(args["repo"], base_model=None if args["base_in_hub"] else
                                  AutoModelForCausalLM.from_pretrained(args["base"]))
out = {"peft": score_candidates(peft_model, args["prompt"], args["completions"]).tolist(),
       "recommender": rec.score(args["history"], args["candidates"])}
if args["merged"]:
    merged = AutoModelForCausalLM.from_pretrained(args["repo"] + "-merged")
    out["merged"] = score_candidates(merged, args["prompt"], args["completions"]).tolist()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def hub():
    with HubServer(TOKEN) as server:
        yield server


def hub_env(hub, home: Path) -> dict:
    # A fresh HF_HOME is an empty Hub cache; the token travels only through the environment.
    return dict(os.environ, HF_ENDPOINT=hub.endpoint, HF_TOKEN=TOKEN, HF_HOME=str(home), HF_HUB_OFFLINE="0",
                HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1", TOKENIZERS_PARALLELISM="false")


@pytest.fixture(scope="module")
def trained(tiny_assets, tmp_path_factory, hub):
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub.endpoint, token=TOKEN)  # the base model the adapter names, on the Hub
    api.create_repo(BASE_REPO)
    api.upload_folder(repo_id=BASE_REPO, folder_path=tiny_assets["gpt2"])
    out = tmp_path_factory.mktemp("run") / "out"
    result = run_tuning(*tiny_configs(tiny_assets, out, base_model_id=BASE_REPO, eval_strategy="steps", eval_steps=3))
    model = result.trainer.model
    recommender = Recommender(model, result.trainer.processing_class, result.trainer.manifest)
    expected = {"peft": score_candidates(model, PROMPT, COMPLETIONS).tolist(),
                "recommender": recommender.score(HISTORY, CANDIDATES)}
    return out, expected


@pytest.fixture(scope="module")
def pushed(trained, hub, tmp_path_factory):
    out, _ = trained
    home = tmp_path_factory.mktemp("push-home")
    return subprocess.run([sys.executable, str(ROOT / "recipes" / "push.py"), str(out), ADAPTER_REPO, "--private",
                           "--merge", "--with-app", "--commit-message", "first adapter"],
                          env=hub_env(hub, home), capture_output=True, text=True, cwd=ROOT)


def test_push_then_pull_in_a_fresh_process_reproduces_the_trained_scores(trained, pushed, hub, tmp_path):
    _, expected = trained
    assert pushed.returncode == 0, pushed.stderr
    assert f"pushed to {ADAPTER_REPO}" in pushed.stdout and TOKEN not in pushed.stdout + pushed.stderr
    pushed_files = hub.files(ADAPTER_REPO)
    shared = {"adapter_model.safetensors", "adapter_config.json", "README.md", "instructrec_manifest.json"}
    assert shared <= set(pushed_files)
    assert {"model.safetensors", "config.json", "README.md"} <= set(hub.files(ADAPTER_REPO + "-merged"))
    assert not any(name.startswith("checkpoint") or name.endswith(".bin") for name in pushed_files)
    assert hub.state.repos[ADAPTER_REPO].private

    args = {"base": BASE_REPO, "repo": ADAPTER_REPO, "prompt": PROMPT, "completions": COMPLETIONS,
            "history": HISTORY, "candidates": CANDIDATES, "merged": True, "base_in_hub": True}
    home = tmp_path / "pull-home"
    pull = subprocess.run([sys.executable, "-c", PULL, json.dumps(args)], env=hub_env(hub, home), capture_output=True,
                          text=True, cwd=tmp_path)
    assert pull.returncode == 0, pull.stderr
    got = json.loads(pull.stdout.strip().splitlines()[-1])
    assert torch.allclose(torch.tensor(got["peft"]), torch.tensor(expected["peft"]), atol=1e-5)
    assert torch.allclose(torch.tensor(got["merged"]), torch.tensor(expected["peft"]), atol=1e-5)
    assert torch.allclose(torch.tensor(got["recommender"]), torch.tensor(expected["recommender"]), atol=1e-5)
    # Downloaded over HTTP into the empty cache, from the private repo with the environment's token.
    assert f"GET /{ADAPTER_REPO}/resolve/main/adapter_model.safetensors" in hub.state.requests
    assert list((home / "hub").glob("models--test-user--tiny-recommender/snapshots/*/adapter_model.safetensors"))


SPACE = """
import json, sys
from pathlib import Path
import instructrec_peft
from instructrec_peft.inference.app import load_recommender
args = json.loads(sys.argv[1])
rec, items = load_recommender(args["repo"], feedback="feedback.jsonl", catalog_file="catalog.jsonl")
print(json.dumps({"package": str(Path(instructrec_peft.__file__).parent), "items": items,
                  "scores": rec.score(args["history"], args["candidates"])}))
"""


def space_checkout(hub, destination: Path) -> Path:
    for name, content in hub.files(f"spaces/{SPACE_REPO}").items():
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        (destination / name).write_bytes(content)
    return destination


def test_with_app_pushes_a_space_whose_own_package_copy_serves_the_adapter(trained, pushed, hub, tmp_path,
                                                                             tiny_assets):
    import yaml
    from packaging.requirements import Requirement

    from instructrec_peft.hub.space import space_requirements
    from instructrec_peft.inference.app import adapter_catalog

    _, expected = trained
    assert pushed.returncode == 0, pushed.stderr
    assert (f"app: {hub.endpoint}/spaces/{SPACE_REPO} (the adapter is private: give the Space an HF_TOKEN secret)"
            in pushed.stdout)
    assert hub.state.repos[f"spaces/{SPACE_REPO}"].private
    space = space_checkout(hub, tmp_path / "space")
    meta = yaml.safe_load((space / "README.md").read_text().split("---")[1])
    assert (meta["sdk"], meta["app_file"], meta["models"]) == ("gradio", "app.py", [ADAPTER_REPO])
    requirements = (space / "requirements.txt").read_text().splitlines()
    assert requirements == space_requirements()
    names = {Requirement(line).name for line in requirements}
    assert {"transformers", "peft", "gradio", "filelock"} <= names and "pytest" not in names
    assert {"instructrec_peft/__init__.py", "instructrec_peft/hub/adapter_card.md",
            "instructrec_peft/instructions/templates.json"} <= set(hub.files(f"spaces/{SPACE_REPO}"))
    assert not any("__pycache__" in name for name in hub.files(f"spaces/{SPACE_REPO}"))

    # In the Space's folder, the copy of the package is what gets imported, the adapter comes from
    # its model repo and the catalogue from catalog.jsonl: the scores are the trained ones.
    args = {"repo": ADAPTER_REPO, "history": HISTORY, "candidates": CANDIDATES}
    run = subprocess.run([sys.executable, "-c", SPACE, json.dumps(args)], env=hub_env(hub, tmp_path / "home"),
                         capture_output=True, text=True, cwd=space)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(got["package"]) == space / "instructrec_peft"
    catalog = adapter_catalog(str(trained[0]))
    assert got["items"] == [catalog.text(item) for item in catalog.texts] and len(got["items"]) == len(catalog) > 7
    assert torch.allclose(torch.tensor(got["scores"]), torch.tensor(expected["recommender"]), atol=1e-5)


def test_the_space_app_py_builds_the_app(pushed, hub, tmp_path):
    pytest.importorskip("gradio")
    assert pushed.returncode == 0, pushed.stderr
    space = space_checkout(hub, tmp_path / "space")
    # app.py as the Space runs it, with launch() replaced by a report of what would be served.
    run = subprocess.run([sys.executable, "-c", "import runpy, gradio\n"
                          "gradio.Blocks.launch = lambda self, **kw: print('launch', self.title)\n"
                          "runpy.run_path('app.py', run_name='__main__')"],
                         env=hub_env(hub, tmp_path / "home"), capture_output=True, text=True, cwd=space)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "launch tiny-recommender recommender"


def test_anonymous_clients_cannot_read_the_private_repo(pushed, hub):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub.endpoint, token=False).model_info(ADAPTER_REPO)


def test_pushed_card_metadata_matches_the_run_and_leaks_nothing(trained, pushed, hub, tmp_path, tiny_assets):
    from huggingface_hub import ModelCard

    out, _ = trained
    readme = tmp_path / "README.md"
    readme.write_bytes(hub.files(ADAPTER_REPO)["README.md"])
    card = ModelCard.load(readme)
    assert card.data.base_model == BASE_REPO and card.data.library_name == "peft"
    assert card.data.pipeline_tag == "text-generation" and {"recommendation", "lora"} <= set(card.data.tags)
    evals = json.loads((out / "eval_results.json").read_text())
    index = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert index == {k.removeprefix("eval_"): v for k, v in evals.items()
                     if k.removeprefix("eval_") in {"hr@1", "hr@3", "hr@5", "hr@10", "ndcg@3", "ndcg@5", "ndcg@10",
                                                    "mrr"}}
    assert all(r.dataset_split == "validation" and r.dataset_config == "loo-random-5" for r in card.data.eval_results)
    text = str(card)
    assert f'PeftModel.from_pretrained(base, "{ADAPTER_REPO}")' in text and "p1-i0-matching-1" in text
    # No file that leaves this machine names a local path or carries the token.
    for repo in (ADAPTER_REPO, ADAPTER_REPO + "-merged"):
        for name, content in hub.files(repo).items():
            body = content.decode("utf-8", errors="replace")
            assert TOKEN not in body, name
            for local in (str(out), str(tiny_assets["root"]), str(Path.home())):
                assert local not in body, (name, local)


def test_export_keeps_only_the_shareable_files_and_names_the_base_by_hub_id(trained, tmp_path):
    out, _ = trained
    folder = export_folder(out, tmp_path / "export")
    allowed = set(RunDir(out).exported_files()) | {"README.md"}
    assert {p.name for p in folder.iterdir()} <= allowed
    assert (out / "trainer_state.json").is_file() and not (folder / "trainer_state.json").exists()
    adapter = json.loads((folder / "adapter_config.json").read_text())
    config = json.loads((folder / "instructrec_config.json").read_text())
    assert adapter["base_model_name_or_path"] == BASE_REPO == config["model"]["model_name_or_path"]
    assert config["training"]["output_dir"] == "out"  # absolute paths keep their last component only
    with pytest.raises(FileExistsError):
        export_folder(out, folder)


def test_export_refuses_a_base_known_only_by_a_local_path(tiny_assets, tmp_path):
    out = tmp_path / "out"
    run_tuning(*tiny_configs(tiny_assets, out, max_steps=1))
    with pytest.raises(ValueError, match="loaded from a local folder, which a Hub user cannot load"):
        export_folder(out, tmp_path / "export")
    assert not (tmp_path / "export").exists()
    # The card written at the end of training is still valid, without a base_model entry.
    from huggingface_hub import ModelCard

    card = ModelCard.load(out / "README.md")
    assert card.data.base_model is None and str(tmp_path) not in str(card)


def test_push_to_hub_in_the_training_config_pushes_once_at_the_end(tiny_assets, tmp_path, hub, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
    before = len(hub.state.requests)
    out = tmp_path / "out"
    run_tuning(*tiny_configs(tiny_assets, out, base_model_id=BASE_REPO, push_to_hub=True, hub_token=TOKEN,
                             hub_model_id="test-user/pushed-by-trainer", save_strategy="steps", save_steps=1))
    commit = "POST /api/models/test-user/pushed-by-trainer/commit"
    commits = [r for r in hub.state.requests[before:] if r.startswith(commit)]
    assert len(commits) == 1  # not one per checkpoint
    files = hub.files("test-user/pushed-by-trainer")
    assert "adapter_model.safetensors" in files and not any(n.startswith("checkpoint") for n in files)
    assert "Upload adapter tuned for 3 steps" in hub.state.repos["test-user/pushed-by-trainer"].messages.values()
    # The token was given in the config: no file of the run, checkpoints included, may hold it.
    assert list(out.rglob("checkpoint-*/adapter_model.safetensors"))
    for path in out.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    for content in files.values():
        assert TOKEN.encode() not in content


def test_push_to_hub_needs_a_repo_id():
    from instructrec_peft.config import InstructRecConfig

    with pytest.raises(ValueError, match="InstructRecConfig.hub_model_id: push_to_hub needs namespace/name"):
        InstructRecConfig(output_dir="x", push_to_hub=True)


def test_olah_a_third_party_hub_mirror_serves_the_pushed_repos(trained, pushed, hub, tmp_path, tiny_assets):
    """The download side through olah (a Hub mirror from PyPI serving local git repositories)."""
    pytest.importorskip("olah")
    import socket
    import time

    _, expected = trained
    assert pushed.returncode == 0, pushed.stderr
    mirrors = tmp_path / "mirrors"
    for repo in (ADAPTER_REPO,):  # olah serves git repositories: commit what our server holds
        folder = mirrors / "models" / repo
        for name, content in hub.files(repo).items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        git = ["git", "-C", str(folder), "-c", "user.name=test", "-c", "user.email=test@example.com"]
        for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "pushed"]):
            subprocess.run(git + command, check=True)
    cache = tmp_path / "olah-cache"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "olah.toml").write_text(
        f'[basic]\nhost = "127.0.0.1"\nport = {port}\nmirror-netloc = "127.0.0.1:{port}"\n'
        f'mirror-lfs-netloc = "127.0.0.1:{port}"\nmirrors-path = ["{mirrors}"]\nrepos-path = "{cache}"\n'
        "\n[accessibility]\noffline = true\n")
    server = subprocess.Popen([sys.executable, "-m", "olah.server", "-c", str(tmp_path / "olah.toml")], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline and server.poll() is None, "olah did not start"
            time.sleep(0.2)
        env = dict(hub_env(hub, tmp_path / "olah-home"), HF_ENDPOINT=f"http://127.0.0.1:{port}")
        # olah answers a probe for a file a repo lacks with 401 (RepoNotFound), which transformers'
        # from_pretrained treats as fatal while it probes a base repo's optional files; PEFT and
        # our loaders only ask for files that exist. So the base comes from its local folder here.
        args = {"base": tiny_assets["gpt2"], "repo": ADAPTER_REPO, "prompt": PROMPT, "completions": COMPLETIONS,
                "history": HISTORY, "candidates": CANDIDATES, "merged": False, "base_in_hub": False}
        pull = subprocess.run([sys.executable, "-c", PULL, json.dumps(args)], env=env, capture_output=True, text=True,
                              cwd=tmp_path)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert pull.returncode == 0, pull.stderr[-3000:]
    got = json.loads(pull.stdout.strip().splitlines()[-1])
    assert torch.allclose(torch.tensor(got["peft"]), torch.tensor(expected["peft"]), atol=1e-5)
    assert torch.allclose(torch.tensor(got["recommender"]), torch.tensor(expected["recommender"]), atol=1e-5)


def test_the_card_states_trust_remote_code_when_it_was_on(trained, tmp_path):
    import shutil

    from instructrec_peft.hub.model_card import build_card

    out, _ = trained
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    assert "trust_remote_code" not in str(build_card(copy))
    config = json.loads((copy / "instructrec_config.json").read_text())
    config["model"]["trust_remote_code"] = True
    (copy / "instructrec_config.json").write_text(json.dumps(config))
    assert "trained with `trust_remote_code=True`" in str(build_card(copy))


def test_the_cards_peft_snippet_loads_a_qlora_base_as_its_metrics_were_computed(tiny_assets, tmp_path):
    from training_helpers import tiny_configs
    from transformers import AutoModelForCausalLM

    from instructrec_peft.hub.model_card import build_card

    out = tmp_path / "qlora"
    run_tuning(*tiny_configs(tiny_assets, out, quantization="4bit"))
    text = str(build_card(out, repo_id="me/tiny-qlora", base_model="me/tiny-base"))
    snippet = text.split("With PEFT alone")[1].split("```python\n")[1].split("```")[0]
    assert 'BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4"' in snippet
    scope = {}
    exec(snippet.replace('"me/tiny-base"', repr(tiny_assets["gpt2"])).replace('"me/tiny-qlora"', repr(str(out))),
         scope)
    rec = Recommender.from_pretrained(str(out), catalog=["Film A0 (1980)", "Film B1 (1981)", "Film C2 (1982)"])
    history, candidates = ["Film A0 (1980)"], ["Film B1 (1981)", "Film C2 (1982)"]
    prompt = rec._prompt(rec._template(None, None), history)
    ids = rec.encoder.prompt_ids([prompt])[0], rec.encoder.completion_ids(candidates)
    expected = torch.tensor(rec.score(history, candidates))
    assert torch.allclose(score_candidates(scope["model"], *ids), expected, atol=1e-5)
    # Loaded in full precision instead, the same adapter scores otherwise: the 4-bit line matters.
    full = snippet.split("quantization = ")[0] + snippet.split("quantization_config=quantization)")[1]
    full = full.replace('"me/tiny-qlora"', repr(str(out))) + "\n"
    scope = {"base": AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])}
    exec(full, scope)
    assert not torch.allclose(score_candidates(scope["model"], *ids), expected, atol=1e-5)
