import pytest

from instructrec_peft.config import DataArguments
from instructrec_peft.data.domains import ML100K_DOMAINS, restrict_to_categories
from instructrec_peft.errors import DataError
from instructrec_peft.models.workspace import load_log


def test_a_domain_keeps_items_whose_categories_are_all_in_it(toy_log):
    # toy catalogue: 1 Horror|Sci-Fi, 2 Crime|Thriller, 3 Crime|Drama, 4 Animation|Comedy, 5 Horror|Thriller,
    # 6 Drama, 7 Children's|Comedy, 8 Crime|Thriller, 9 Comedy|Mystery, 10 Comedy|Fantasy, 11 Action|Sci-Fi,
    # 12 Drama|War
    action = restrict_to_categories(toy_log, ["Action", "Horror", "Sci-Fi", "Thriller", "Crime"])
    assert sorted(action.catalog.texts, key=int) == ["1", "2", "5", "8", "11"]
    assert action.interactions[["user_id", "item_id"]].values.tolist() == [
        ["u1", "1"], ["u1", "2"], ["u1", "5"], ["u2", "8"], ["u3", "11"], ["u4", "1"], ["u4", "2"]]
    drama = restrict_to_categories(toy_log, ["Comedy", "Drama", "Children's", "Animation"])
    assert sorted(drama.catalog.texts, key=int) == ["4", "6", "7"]      # 3, 9, 10, 12 are mixed: in neither
    assert drama.interactions["item_id"].tolist() == ["4", "6", "7"]
    assert not set(action.catalog.texts) & set(drama.catalog.texts)
    report = action.report
    assert (report.rows_out, report.users, report.items, report.outside_domain) == (7, 4, 5, 7)
    assert "7 of items outside the domain" in action.report.summary()


def test_the_ml100k_domains_are_disjoint_halves_of_its_genres():
    action, drama = set(ML100K_DOMAINS["action"]), set(ML100K_DOMAINS["drama"])
    assert not action & drama and len(action | drama) == 18


def test_domain_errors_name_the_problem(toy_log):
    with pytest.raises(DataError, match=r"unknown item category \['Westerns'\]; the catalogue has \['Action', "):
        restrict_to_categories(toy_log, ["Drama", "Westerns"])
    with pytest.raises(DataError, match="no interactions with items whose categories are all in"):
        restrict_to_categories(toy_log, ["Mystery"])
    with pytest.raises(ValueError, match="DataArguments.item_categories: empty"):
        DataArguments(item_categories=[])


def test_data_arguments_load_a_domain(tiny_assets):
    # toy items cycle through Action, Comedy, Drama, Horror, Romance: item i has GENRES[i % 5]
    log = load_log(DataArguments(dataset=tiny_assets["data"], item_categories=["Action", "Horror"]))
    assert sorted(log.catalog.texts, key=int) == [str(i) for i in range(40) if i % 5 in (0, 3)]
    assert set(log.interactions["item_id"]) <= set(log.catalog.texts)
    full = load_log(DataArguments(dataset=tiny_assets["data"]))
    kept = full.interactions[full.interactions["item_id"].isin(set(log.catalog.texts))]
    assert len(log.interactions) == len(kept)


def test_transfer_matrix_tunes_one_adapter_per_domain_and_ranks_every_domain_with_each(tiny_assets, tmp_path):
    import json

    from training_helpers import tiny_configs, yaml_config

    from benchmarks.transfer import transfer_matrix
    from instructrec_peft.config import parse_config
    from instructrec_peft.evaluation.protocols import protocol_rows, run_lm, run_popularity
    from instructrec_peft.instructions.tokenization import PromptEncoder
    from instructrec_peft.models.loading import load_adapter, load_base_model, load_tokenizer

    config = tmp_path / "base.yaml"
    config.write_text(yaml_config(tiny_assets, tmp_path / "unused", max_steps=2))
    domains = {"ac": ["Action", "Comedy"], "dhr": ["Drama", "Horror", "Romance"]}
    configs = parse_config([str(config)])
    results = transfer_matrix(configs, domains, tmp_path / "transfer", users=5, seed=3, progress=False)
    assert list(results) == ["ac", "dhr"]
    for name in domains:
        saved = json.loads((tmp_path / "transfer" / name / "instructrec_config.json").read_text())
        assert saved["data"]["item_categories"] == domains[name]
        card = (tmp_path / "transfer" / name / "README.md").read_text()
        assert f"whose categories are all among {', '.join(domains[name])}, shown to the model as" in card
    model_args, data_args, _ = tiny_configs(tiny_assets, tmp_path / "unused", item_categories=domains["dhr"])
    encoder = PromptEncoder(load_tokenizer(model_args))
    data = protocol_rows("loo-random-10", data_args, encoder, seed=3, users=5)
    assert results["dhr"]["users"] == len(data.rows) == 5
    assert all(set(r["candidates"]) <= {str(i) for i in range(40) if i % 5 in (2, 3, 4)} for r in data.rows)
    systems = results["dhr"]["systems"]
    assert list(systems) == ["popularity", "zero-shot", "tuned on ac", "tuned on dhr"]
    assert systems["popularity"] == run_popularity(data)
    assert systems["zero-shot"] == run_lm(load_base_model(model_args), encoder, data, progress=False).metrics
    tuned = load_adapter(str(tmp_path / "transfer" / "ac"), model_args=model_args)
    assert systems["tuned on ac"] == run_lm(tuned, encoder, data, progress=False).metrics
    # The adapters are reused, not tuned again.
    stamp = (tmp_path / "transfer" / "ac" / "adapter_model.safetensors").stat().st_mtime_ns
    transfer_matrix(configs, domains, tmp_path / "transfer", users=2, seed=3, progress=False)
    assert (tmp_path / "transfer" / "ac" / "adapter_model.safetensors").stat().st_mtime_ns == stamp
