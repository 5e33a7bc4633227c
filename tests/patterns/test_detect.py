"""The clustering engine on its own: a week of reports with planted campaigns (typos, swapped
names, other links of the campaign's domain) among unrelated reports."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from tests.harness.pattern_data import DOMAINS, corpus
from workflows.patterns import Item, Settings, Shared, TopTermsLabeler, cluster, normalise
from workflows.patterns.detect import domain_of

AT = datetime(2026, 11, 23, 10, tzinfo=UTC)
SETTINGS = Settings(min_size=3, min_accounts=3, similarity=0.5, wording_similarity=0.6)


def _items(rows: list) -> tuple[list[Item], dict[str, int | None]]:
    items = [Item(f"report:{n}", r.account_id, r.text, AT - timedelta(minutes=n)) for n, r in enumerate(rows)]
    return items, {f"report:{n}": r.campaign for n, r in enumerate(rows)}


def purity_and_recall(clusters: list, truth: dict[str, int | None], campaigns: int) -> tuple[float, float]:
    """Purity: of all clustered items, the share in their cluster's majority campaign (an
    unrelated report counts against it). Recall: per campaign, the share of its copies in its
    best cluster, averaged."""
    clustered = sum(len(c.items) for c in clusters)
    majority = 0
    best: dict[int, int] = Counter()
    for c in clusters:
        counts = Counter(truth.get(i.key) for i in c.items)
        top, n = counts.most_common(1)[0]
        majority += n if top is not None else 0
        for campaign, k in counts.items():
            if campaign is not None:
                best[campaign] = max(best[campaign], k)
    sizes = Counter(v for v in truth.values() if v is not None)
    recall = sum(best[c] / sizes[c] for c in range(campaigns)) / campaigns
    return majority / clustered, recall


def test_planted_campaigns_are_recovered_and_unrelated_reports_stay_apart() -> None:
    rows = corpus(campaigns=8, per_campaign=15, unrelated=300)
    items, truth = _items(rows)
    clusters = cluster(items, [], SETTINGS)
    purity, recall = purity_and_recall(clusters, truth, 8)
    assert purity >= 0.9 and recall >= 0.9, (purity, recall)
    # No group is made of unrelated reports, and no unrelated report joined a campaign.
    for c in clusters:
        assert all(truth[i.key] is not None for i in c.items), [i.text for i in c.items]
    # Each campaign is one pattern, labelled by words its texts share.
    assert len([c for c in clusters if c.kind == "template"]) == 8
    labels = [TopTermsLabeler().label(c) for c in clusters]
    assert any("giveaway" in label for label in labels) and any("whatsapp" in label for label in labels)


def test_a_bigger_noisier_week_still_holds_up() -> None:
    rows = corpus(campaigns=8, per_campaign=60, unrelated=3000, seed=11)
    items, truth = _items(rows)
    purity, recall = purity_and_recall(cluster(items, [], SETTINGS), truth, 8)
    assert purity >= 0.9 and recall >= 0.9, (purity, recall)


def test_the_same_campaign_in_other_words_is_grouped_by_wording() -> None:
    texts = [
        "host asked me to pay the cleaning fee in cash outside the platform before arrival",
        "the host wants the cleaning fee paid in cash, outside the platform, before we arrive",
        "before arrival the host demanded cash for the cleaning fee outside of the platform",
        "cleaning fee in cash outside the platform, the host insisted before arrival",
        "my wifi password does not work and the router is in a locked cupboard",
        "the pool was closed all week and nobody told us why",
        "neighbour complained about the noise although we were quiet after ten",
    ]
    items = [Item(f"case:{n}", f"acct_{n}", t, AT) for n, t in enumerate(texts)]
    clusters = cluster(items, [], Settings(min_size=3, similarity=0.8, wording_similarity=0.35))
    grouped = {i.key for c in clusters for i in c.items}
    assert {"case:0", "case:1", "case:2", "case:3"} <= grouped
    assert not grouped & {"case:4", "case:5", "case:6"}
    assert any(c.kind == "wording" for c in clusters)


def test_shared_domains_and_fingerprints_make_patterns_across_different_texts() -> None:
    texts = [
        "selling my old sofa, see pics at https://cheap-furniture-deals.shop/a/1",
        "Guest sent me https://www.cheap-furniture-deals.shop/offer?id=9 asking to move the booking",
        "weird link in a review: http://go.cheap-furniture-deals.shop/r",
        "unrelated: my stay was fine, see https://google.com/maps?q=1",
        "the host shared https://google.com/maps with directions",
        "directions here https://maps.google.com",
    ]
    items = [Item(f"report:{n}", f"acct_{n}", t, AT) for n, t in enumerate(texts)]
    shared = [Shared("device_id", "dev-42", f"acct_d{n}", AT) for n in range(4)]
    shared += [Shared("device_id", "dev-7", "acct_x", AT), Shared("device_id", "dev-7", "acct_y", AT)]
    clusters = cluster(
        items, shared, Settings(min_size=3, min_accounts=3, ignore_domains=frozenset({"google.com"}))
    )
    by_signature = {c.signature: c for c in clusters if c.signature}
    assert set(by_signature) == {"domain:cheap-furniture-deals.shop", "device_id:dev-42"}
    assert len(by_signature["domain:cheap-furniture-deals.shop"].items) == 3
    assert by_signature["device_id:dev-42"].accounts == [f"acct_d{n}" for n in range(4)]
    assert (
        TopTermsLabeler().label(by_signature["device_id:dev-42"]) == "device_id dev-42 shared by 4 accounts"
    )


def test_normalising_keeps_what_a_template_keeps() -> None:
    a = normalise("Hi Anna, pay at https://pay.secure-deposit-pay.net/x/123 for acct_991")
    b = normalise("Hi Anna, pay at https://www.secure-deposit-pay.net/go/77 for acct_12")
    assert a == b
    assert domain_of("https://a.b.rate-listings-jobs.co.uk/x") == DOMAINS[7]
    assert domain_of("not a url") is None


def test_nothing_to_cluster() -> None:
    assert cluster([], [], SETTINGS) == []
    one = [Item("report:1", "acct_1", "just one report", AT)]
    assert cluster(one, [], SETTINGS) == []
