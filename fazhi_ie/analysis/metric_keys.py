"""Metric canonicalisation: variants of one indicator under one canonical key.

出庭应诉率, 行政机关负责人出庭应诉率 and 负责人出庭应诉率 are one indicator. A metric string is
mapped to a key by, in order (the rule is recorded with every result):

1. ``lexicon``: it equals a variant in the lexicon (compared by `match_key`: NFKC, no
   whitespace, quotation marks or brackets; the stored metric text is never changed);
2. ``lexicon-normalised``: its normal form (below) equals a variant's normal form;
3. ``similarity``: the character-bigram Dice similarity of its normal form to a variant's
   normal form is at least the threshold (default 0.8), and it takes the most similar
   variant's key;
4. ``similarity-peer`` (only in `canonicalize_all`): its normal form is that similar to the
   normal form of another unmatched metric of the same batch, and it joins that metric's key;
5. ``normalised``: no match, but its normal form differs from the string, so the normal form
   (level first) is the key (组织开展法治体检 and 开展法治体检 share the key 法治体检);
6. ``none``: its own matching key.

The normal form (`normal_form`): rules that generalise beyond the lexicon, each one a change of
wording that does not change what is counted. In order:

- **Levels kept apart.** Level words anywhere in the string (国家级, 省级, 市级, 州级, 县级, 区级,
  街道级, 乡镇级, 村级, and compounds such as 省市级; `LEVEL_RE`) are taken out as the string's level.
  The rest is matched only against variants of the same level or of no level; a level-free
  indicator found for it gets the level in front of its key (国家级民主法治示范村 →
  国家级民主法治示范村(社区), so the panel's `indicator_of` still splits it off). Strings of
  different levels are never compared by similarity nor joined as peers, and a lexicon line whose
  variants have different levels is an error: 国家级, 省级 and 市级 民主法治示范村 are three indicators.
- **Full terms** (`SYNONYMS`): 复议 → 行政复议, 执法 → 行政执法 (in these reports there is no other
  复议 or 执法), 法制 → 法治 (the older spelling).
- **Fillers dropped anywhere** (`FILLERS`): 各类, 各项, 各种 (受理各类案件 = 受理案件).
- **Leading scope words and light verbs dropped**, repeatedly (`SCOPE_WORDS`, `LIGHT_VERBS`): scope
  words that only say when or over what the count runs (共, 共计, 累计, 先后, 全年, 目前, 其中, 分别,
  均, 已; 全县, 全区, 全市, 全省, 全州, 辖区, 我区, 本县 …: the report's own area; 全国 is kept, it is
  another area in a local report) and light verbs that only carry the count out (开展, 组织开展,
  组织, 举办, 召开, 完成, 提供, 做好, 进行, 实施, 办理, 参与, 参加, 建成, 建立, 创建, 设立, 开设, 梳理,
  配备), as in the annotation guidelines. Nouns that begin like one stay whole (组织措施, 组织处理,
  实施方案, 完成率 …; `_NOUNS`). Content verbs are never dropped, wherever they stand, because they
  change what is counted (受理 vs 审结 vs 办结 vs 收到; 排查 vs 化解; 评查; 审查; 接收; 解除; 发放; 申报;
  聘请 and 培育 are left to the lexicon).
- **Trailing words dropped**: 达/为 after a rate (调解成功率达 = 调解成功率); a trailing 工作
  (法治督察工作 = 法治督察); one count word 数, 数量, 总数, 总量, 人数 or 次数 (诉前调解案件数 =
  诉前调解案件; 市场主体总量 = 市场主体), but not where 数 belongs to a word (指数, 系数, 倍数 …);
  the list of listed items (政务服务事项目录清单 = 政务服务事项).
- **A trailing review verb goes first** (`TRAILING_VERBS`: 备案审查, 排查化解, 检查, 审查, 排查, 化解,
  评查, 调处): 企业检查 = 检查企业, 矛盾纠纷化解 = 化解矛盾纠纷 (the verb is kept, only its place changes).
- Every rule leaves at least two characters.

Two more limits on the similarity rules (3 and 4): a rate or share (…率, …比, …比例, …比重, …占比)
is never similar to a count (出庭应诉率 vs 出庭应诉数; 赤字率 vs 财政赤字), and levels as above.

A modifier often makes a different indicator (兼职人民调解员 vs 人民调解员, 中央财政赤字 vs
财政赤字, 商会人民调解委员会 vs 人民调解委员会), so there is no suffix or substring rule: such
variants belong in the lexicon; the similarity fallback cannot tell them from a rewording and is
the main source of wrong merges. Measured on a hand grouping of gold METRIC strings in
data/metrics/ (README there: coverage of gold facts, in-sample and leave-one-report-out scores).

The lexicon is a plain TSV shipped as package data (`fazhi_ie/data/metric_lexicon.tsv`);
edit a copy and pass it as `MetricCanonicalizer.from_file(path)`. Format, one indicator a
line: ``key<TAB>variant<TAB>variant…`` (the key is a variant too); ``#`` starts a comment.
Two variants of different lines may not share a matching key or a normal form.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

LEXICON_NAME = "metric_lexicon.tsv"
DEFAULT_THRESHOLD = 0.8
RULES = ("lexicon", "lexicon-normalised", "similarity", "similarity-peer", "normalised", "none")
_DROP = set(" \t\r\n\u3000“”‘’\"'「」『』()（）[]【】")
LEVEL_RE = re.compile("(?:国家|省|市|州|县|区|街道|乡镇|乡|镇|村)+级")
FILLERS = ("各类", "各项", "各种")
SCOPE_WORDS = ("共计", "共", "累计", "先后", "全年", "目前", "其中", "分别", "均", "已经", "已", "总计", "合计",
               "全县", "全区", "全市", "全省", "全州", "全镇", "全乡", "辖区", "我县", "我区", "我市", "我省", "本区",
               "本县", "本市")
LIGHT_VERBS = ("组织开展", "开展", "组织", "举办", "召开", "完成", "提供", "做好", "进行", "实施", "办理", "参与", "参加",
               "建成", "建立", "创建", "设立", "开设", "梳理", "配备")
_LEADING = tuple(sorted(SCOPE_WORDS + LIGHT_VERBS, key=len, reverse=True))
_NOUNS = ("组织措施", "组织处理", "组织机构", "组织建设", "组织体系", "组织生活", "实施方案", "实施意见", "实施细则",
          "实施办法", "完成率", "建成率")  # start like a light verb but are nouns: kept
COUNT_SUFFIXES = ("数量", "总数", "总量", "人数", "次数", "数")
_NOT_COUNT_SUFFIX = ("指数", "系数", "倍数", "分数", "基数", "参数", "函数", "位数", "少数", "多数", "半数", "无数",
                     "代数", "变数", "复数", "礼数", "算数", "约数", "点数")
_RATE_TAIL = re.compile("率(?:达到|已达|达|为)$")
SYNONYMS = ((re.compile("法制"), "法治"), (re.compile("(?<!行政)复议"), "行政复议"),
            (re.compile("(?<!政)执法"), "行政执法"))  # one thing in these reports: the full term
_LIST_TAIL = re.compile("事项(?:目录清单|目录|清单)$")
TRAILING_VERBS = ("备案审查", "排查化解", "检查", "审查", "排查", "化解", "评查", "调处")
RATE_ENDINGS = ("率", "比", "比例", "比重", "占比")
_MIN_LEFT = 2  # a rule never leaves fewer characters than this


@dataclass(frozen=True)
class Canonical:
    """The canonical key of one metric string, the rule that produced it, its score in 0..1
    and the lexicon variant or peer metric it matched (None for rules 'normalised' and 'none')."""

    key: str
    rule: str
    score: float
    matched: str | None = None


@dataclass(frozen=True)
class NormalForm:
    """A metric's level words (国家级…, '' for none) and the rest after the normal-form rules."""

    level: str
    base: str

    @property
    def key(self) -> str:
        return self.level + self.base


def match_key(text: str) -> str:
    """The form metric strings are compared in: NFKC, without whitespace, quotation marks or brackets."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch not in _DROP)


def level_of(text: str) -> str:
    """The level words of a metric in order of appearance (国家级, 省级, 省市级…), '' when none."""
    return normal_form(text).level


@lru_cache(maxsize=65536)
def normal_form(text: str) -> NormalForm:
    """The level and the normalised rest of a metric (rules in the module docstring)."""
    mk = match_key(text)
    level, base = "".join(LEVEL_RE.findall(mk)), LEVEL_RE.sub("", mk)
    if not level or len(base) < _MIN_LEFT:
        level, base = "", mk
    for pattern, full in SYNONYMS:
        base = pattern.sub(full, base)
    for filler in FILLERS:
        if filler in base and len(base) - len(filler) >= _MIN_LEFT:
            base = base.replace(filler, "")
    changed = True
    while changed:
        changed = False
        for word in _LEADING:
            if base.startswith(word) and len(base) - len(word) >= _MIN_LEFT and not base.startswith(_NOUNS):
                base, changed = base[len(word):], True
                break
    base = _RATE_TAIL.sub("率", base)
    if base.endswith("工作") and len(base) - 2 >= _MIN_LEFT:
        base = base[:-2]
    for suffix in COUNT_SUFFIXES:
        if base.endswith(suffix) and len(base) - len(suffix) >= _MIN_LEFT and not base.endswith(_NOT_COUNT_SUFFIX):
            base = base[:-len(suffix)]
            break
    base = _LIST_TAIL.sub("事项", base)
    for verb in TRAILING_VERBS:
        if base.endswith(verb) and len(base) - len(verb) >= _MIN_LEFT:
            base = verb + base[:-len(verb)]
            break
    return NormalForm(level, base)


def is_rate(text: str) -> bool:
    """Whether a metric (or normal-form base) names a rate or share (…率, …比, …比重, …占比)."""
    return match_key(text).endswith(RATE_ENDINGS)


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the character bigrams of two strings (1.0 = same bigrams)."""
    return _dice(_bigrams(a), _bigrams(b))


def _dice(x: set[str], y: set[str]) -> float:
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


@dataclass(frozen=True)
class Lexicon:
    """Indicators as {matching key of a variant: canonical key}."""

    variants: dict[str, str]

    @classmethod
    def parse(cls, content: str, name: str = "<lexicon>") -> "Lexicon":
        """Read the TSV format described in the module docstring; errors name the line.

        A line whose variants have different levels, and a variant whose matching key or normal
        form belongs to another line, are errors.
        """
        variants: dict[str, str] = {}
        normals: dict[NormalForm, str] = {}
        for lineno, line in enumerate(content.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = [c.strip() for c in line.split("\t") if c.strip()]
            key = cells[0]
            levels = {normal_form(v).level for v in cells}
            if len(levels) > 1:
                raise ValueError(f"{name}:{lineno}: variants of different levels ({', '.join(sorted(levels))}) "
                                 "on one line; levels are separate indicators")
            for variant in cells:
                mk = match_key(variant)
                if not mk:
                    raise ValueError(f"{name}:{lineno}: empty variant")
                if variants.get(mk, key) != key:
                    raise ValueError(f"{name}:{lineno}: {variant!r} is already a variant of {variants[mk]!r}")
                nf = normal_form(variant)
                if normals.get(nf, key) != key:
                    raise ValueError(f"{name}:{lineno}: {variant!r} has the normal form {nf.key!r} of a variant of "
                                     f"{normals[nf]!r}")
                variants[mk] = key
                normals[nf] = key
        return cls(variants)

    def without(self, *variants: str) -> "Lexicon":
        """A copy without some variants (for leave-one-out measurement)."""
        drop = {match_key(v) for v in variants}
        return Lexicon({k: v for k, v in self.variants.items() if k not in drop})

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> "Lexicon":
        """The lexicon in `path`, or the bundled one when `path` is None."""
        if path is None:
            return cls.parse(resources.files("fazhi_ie.data").joinpath(LEXICON_NAME).read_text(encoding="utf-8"),
                             f"fazhi_ie/data/{LEXICON_NAME}")
        return cls.parse(Path(path).read_text(encoding="utf-8"), str(path))


class MetricCanonicalizer:
    """Maps metric strings to canonical keys with a lexicon, normal forms and a similarity fallback."""

    def __init__(self, lexicon: Lexicon | None = None, threshold: float = DEFAULT_THRESHOLD):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.lexicon = lexicon if lexicon is not None else Lexicon({})
        self.threshold = threshold
        self._normals: dict[NormalForm, tuple[str, str]] = {}  # normal form -> (key, variant)
        for variant in sorted(self.lexicon.variants):  # a fixed order: ties go to the first
            self._normals.setdefault(normal_form(variant), (self.lexicon.variants[variant], variant))
        self._grams = [(nf, _bigrams(nf.base), is_rate(nf.base)) for nf in self._normals]

    @classmethod
    def from_file(cls, path: str | Path | None = None, threshold: float = DEFAULT_THRESHOLD) -> "MetricCanonicalizer":
        """A canonicalizer over the lexicon in `path` (the bundled one when None)."""
        return cls(Lexicon.from_file(path), threshold)

    def canonicalize(self, metric: str) -> Canonical:
        """The canonical key of one metric string: lexicon, normal form, similarity, else itself."""
        found = self._lexicon_match(metric)
        return found if found is not None else self._unmatched(metric)

    def canonicalize_all(self, metrics: Iterable[str]) -> dict[str, Canonical]:
        """Canonical keys for many strings; unmatched ones may also join a similar unmatched peer
        of the same level.

        Peers are visited in order of first appearance, so the result is deterministic for a
        given input order.
        """
        out: dict[str, Canonical] = {}
        peers: list[tuple[NormalForm, set[str], str]] = []  # unmatched strings heading their own group
        for metric in metrics:
            if metric in out:
                continue
            found = self._lexicon_match(metric)
            if found is None:
                nf = normal_form(metric)
                grams, rate = _bigrams(nf.base), is_rate(nf.base)
                best, best_score = None, 0.0
                for peer_nf, peer_grams, peer_key in peers:
                    if peer_nf.level != nf.level or is_rate(peer_nf.base) != rate:
                        continue  # never across levels, never a rate with a count
                    score = _dice(grams, peer_grams)
                    if score > best_score:
                        best, best_score = peer_key, score
                if best is not None and best_score >= self.threshold:
                    found = Canonical(best, "similarity-peer", round(best_score, 4), best)
                else:
                    found = self._unmatched(metric)
                    peers.append((nf, grams, found.key))
            out[metric] = found
        return out

    def _unmatched(self, metric: str) -> Canonical:
        mk = match_key(metric) or metric
        nf = normal_form(metric)
        return Canonical(nf.key, "normalised", 1.0, None) if nf.key != mk else Canonical(mk, "none", 1.0, None)

    def _lexicon_match(self, metric: str) -> Canonical | None:
        mk = match_key(metric)
        variants = self.lexicon.variants
        if mk in variants:
            return Canonical(variants[mk], "lexicon", 1.0, mk)
        nf = normal_form(metric)
        if nf in self._normals:
            key, variant = self._normals[nf]
            return Canonical(key, "lexicon-normalised", 1.0, variant)
        if nf.level and NormalForm("", nf.base) in self._normals:  # a level-free indicator at this level
            key, variant = self._normals[NormalForm("", nf.base)]
            return Canonical(nf.level + key, "lexicon-normalised", 1.0, variant)
        grams = _bigrams(nf.base)
        best, best_score = None, 0.0
        rate = is_rate(nf.base)
        for candidate, candidate_grams, candidate_rate in self._grams:
            if candidate.level not in (nf.level, "") or candidate_rate != rate:
                continue  # never across levels, never a rate with a count
            score = _dice(grams, candidate_grams)
            if score > best_score:
                best, best_score = candidate, score
        if best is not None and best_score >= self.threshold:
            key, variant = self._normals[best]
            prefix = nf.level if not best.level else ""  # a level-free indicator at this level
            return Canonical(prefix + key, "similarity", round(best_score, 4), variant)
        return None


@lru_cache(maxsize=1)
def default_canonicalizer() -> MetricCanonicalizer:
    """The canonicalizer over the bundled lexicon, built on first use (not at import)."""
    return MetricCanonicalizer.from_file(None)


def read_grouping(path: str | Path) -> dict[str, str]:
    """A hand grouping file (``indicator<TAB>metric`` lines, ``#`` comments) as {metric: indicator}."""
    grouping: dict[str, str] = {}
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        indicator, sep, metric = line.partition("\t")
        if not sep or not metric.strip():
            raise ValueError(f"{path}:{lineno}: expected 'indicator<TAB>metric'")
        if metric in grouping:
            raise ValueError(f"{path}:{lineno}: {metric!r} listed twice")
        grouping[metric] = indicator.strip()
    return grouping


@dataclass(frozen=True)
class PairwiseScores:
    """Pairwise precision/recall/F1 of a grouping: pairs of strings put together by both,
    over pairs put together by the prediction (P) and by the gold grouping (R)."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    gold_pairs: int
    strings: int


def pairwise_scores(gold: dict[str, str], predicted: dict[str, str]) -> PairwiseScores:
    """Compare two groupings of the same strings ({string: group}) pair by pair."""
    strings: Sequence[str] = sorted(gold)
    missing = [s for s in strings if s not in predicted]
    if missing:
        raise ValueError(f"no predicted group for {len(missing)} string(s), e.g. {missing[0]!r}")
    tp = pp = gp = 0
    for i, a in enumerate(strings):
        for b in strings[i + 1:]:
            same_gold = gold[a] == gold[b]
            same_pred = predicted[a] == predicted[b]
            gp += same_gold
            pp += same_pred
            tp += same_gold and same_pred
    precision = tp / pp if pp else 1.0
    recall = tp / gp if gp else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(round(precision, 4), round(recall, 4), round(f1, 4), tp, pp, gp, len(strings))
