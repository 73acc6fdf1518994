"""Lists and search: every filter operator (raw and percent-encoded brackets), multi-key sort,
cursor pagination (also while records are being inserted), the JSON search tree, ranked
full-text `q`, and the errors for bad filters, cursors and limits."""

import base64
import datetime
import json
import threading
import unicodedata
import unittest
import urllib.parse

from harness import BACKEND, ServerTestCase, quote_param, unique

LEADS_PATH = "/api/v1/leads"
CONTACTS_PATH = "/api/v1/contacts"

# The seeded leads, by first name (unique within the seed). Every one also gets the class's
# marker as `title`, and every query filters on it, so other records never interfere.
LEAD_SEED = [
    dict(first_name="Ann", last_name="Archer", company="Alpha Corp",
         email="ann.archer@alpha.test", score=10, status="new", source="web"),
    dict(first_name="Bob", last_name="Baker", company="Beta LLC",
         email="bob.baker@beta.test", score=20, status="working", source="referral"),
    dict(first_name="Cid", last_name="Carter", company="Gamma Inc",
         email="cid@gamma.test", score=30, status="qualified", source="event"),
    dict(first_name="Dee", last_name="Dawson", company="Alpha Partners",
         email="dee@alpha.test", score=40, status="new", source="web"),
    dict(first_name="Eve", last_name="Evans", status="unqualified"),
    dict(first_name="Fay", last_name="Baker", company="Delta",
         email="fay.baker@delta.test", score=20, status="converted", source="social"),
    dict(first_name="Gus", last_name="Smith", company="Smithson Tools",
         email="gus@smithson.test", score=55, status="new", source="partner"),
    dict(first_name="Hal", last_name="Smithers", company="Omega",
         email="hal@omega.test", score=60, status="working", source="cold_call"),
]
EVERYONE = {lead["first_name"] for lead in LEAD_SEED}
CREATION_ORDER = [lead["first_name"] for lead in LEAD_SEED]

# (query parameters, first names expected)
FILTER_CASES = [
    ([("filter[status]", "new")], {"Ann", "Dee", "Gus"}),
    ([("filter[status][eq]", "new")], {"Ann", "Dee", "Gus"}),
    ([("filter[status][ne]", "new")], {"Bob", "Cid", "Eve", "Fay", "Hal"}),
    ([("filter[score][lt]", "20")], {"Ann"}),
    ([("filter[score][lte]", "20")], {"Ann", "Bob", "Fay"}),
    ([("filter[score][gt]", "20")], {"Cid", "Dee", "Gus", "Hal"}),
    ([("filter[score][gte]", "55")], {"Gus", "Hal"}),
    ([("filter[source][in]", "web,event")], {"Ann", "Cid", "Dee"}),
    ([("filter[first_name][in]", "Ann,Hal,Nobody")], {"Ann", "Hal"}),
    ([("filter[company][contains]", "ta")], {"Bob", "Fay"}),
    ([("filter[last_name][starts_with]", "Ba")], {"Bob", "Fay"}),
    ([("filter[company][starts_with]", "Alpha")], {"Ann", "Dee"}),
    ([("filter[company][is_null]", "true")], {"Eve"}),
    ([("filter[company][is_null]", "false")], EVERYONE - {"Eve"}),
    ([("filter[company]", "Alpha Corp")], {"Ann"}),
    ([("filter[email]", "BOB.BAKER@BETA.TEST")], {"Bob"}),
    ([("filter[status]", "new"), ("filter[score][gte]", "20")], {"Dee", "Gus"}),
    ([("filter[score][gt]", "15"), ("filter[score][lt]", "45")], {"Bob", "Cid", "Dee", "Fay"}),
    ([("filter[status]", "converted"), ("filter[source]", "web")], set()),
]

# (sort parameter, extra params, first names in expected order)
SORT_CASES = [
    ("last_name,first_name", [], ["Ann", "Bob", "Fay", "Cid", "Dee", "Eve", "Gus", "Hal"]),
    ("-last_name,first_name", [], ["Hal", "Gus", "Eve", "Dee", "Cid", "Bob", "Fay", "Ann"]),
    ("-score,first_name", [("filter[score][is_null]", "false")],
     ["Hal", "Gus", "Dee", "Cid", "Bob", "Fay", "Ann"]),
    ("-score,-first_name", [("filter[score][is_null]", "false")],
     ["Hal", "Gus", "Dee", "Cid", "Fay", "Bob", "Ann"]),
    ("created_at", [], CREATION_ORDER),
    ("-created_at", [], CREATION_ORDER[::-1]),
]


def leaf(field, op, value):
    return {"field": field, "op": op, "value": value}


# (filter tree, first names expected)
SEARCH_CASES = [
    ({"and": [leaf("status", "eq", "new"),
              {"or": [leaf("score", "gte", 50), leaf("company", "eq", "Alpha Corp")]}]},
     {"Ann", "Gus"}),
    ({"or": [leaf("source", "in", ["event", "social"]), leaf("company", "is_null", True)]},
     {"Cid", "Fay", "Eve"}),
    ({"or": [{"and": [leaf("last_name", "eq", "Baker"), leaf("score", "lt", 25)]},
             leaf("first_name", "eq", "Hal")]},
     {"Bob", "Fay", "Hal"}),
    ({"and": [leaf("status", "ne", "new"), leaf("email", "contains", "baker")]}, {"Bob", "Fay"}),
    ({"or": [leaf("score", "lt", 15), leaf("score", "gt", 58)]}, {"Ann", "Hal"}),
    ({"and": [leaf("score", "gte", 20), leaf("score", "lte", 30)]}, {"Bob", "Cid", "Fay"}),
    (leaf("source", "is_null", False), EVERYONE - {"Eve"}),
    (leaf("last_name", "starts_with", "Smi"), {"Gus", "Hal"}),
    (leaf("first_name", "eq", "Ann"), {"Ann"}),
]

BRACKET_STYLES = {
    "raw": lambda key: key,
    "encoded": lambda key: key.replace("[", "%5B").replace("]", "%5D"),
    "encoded-lower-case": lambda key: key.replace("[", "%5b").replace("]", "%5d"),
}


def query_string(params, bracket_style="raw"):
    encode_key = BRACKET_STYLES[bracket_style]
    return "&".join(f"{encode_key(key)}={urllib.parse.quote(str(value), safe=',')}"
                    for key, value in params)


def parse_sort(spec):
    return [(part.lstrip("-"), part.startswith("-")) for part in spec.split(",")]


def sort_value(record, field):
    value = record[field]
    if field.endswith("_at"):
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def assert_sorted(test, records, spec):
    keys = parse_sort(spec)
    for earlier, later in zip(records, records[1:]):
        for field, descending in keys:
            a, b = sort_value(earlier, field), sort_value(later, field)
            if a == b:
                continue
            test.assertEqual(a > b, descending,
                             f"{earlier['id']} ({field}={a}) before {later['id']} ({field}={b}) "
                             f"breaks sort {spec!r}")
            break


def search_all_pages(test, q, limit):
    """The ids of every page of a contact search for `q`, following its cursors to the end."""
    ids, cursor = [], None
    for _ in range(100):
        resp = test.api("POST", f"{CONTACTS_PATH}/search",
                        {"q": q, "limit": limit, "cursor": cursor})
        test.assertEqual(resp.status, 200, resp.body)
        ids += [record["id"] for record in resp.body["data"]]
        cursor = resp.body["next_cursor"]
        if cursor is None:
            return ids
    test.fail("search paging did not end")


class LeadQueryTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mark = unique("Q")
        cls.leads = {}
        for lead in LEAD_SEED:
            resp = cls.server.api("POST", LEADS_PATH, {**lead, "title": cls.mark})
            if resp.status != 201:
                raise AssertionError(f"seeding {lead}: {resp.status} {resp.body!r}")
            cls.leads[lead["first_name"]] = resp.body

    def list_leads(self, params, bracket_style="raw"):
        all_params = [("filter[title]", self.mark), *params]
        return self.api("GET", f"{LEADS_PATH}?{query_string(all_params, bracket_style)}")

    def names(self, resp):
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(set(resp.body), {"data", "next_cursor"})
        return [record["first_name"] for record in resp.body["data"]]

    def search(self, body):
        return self.api("POST", f"{LEADS_PATH}/search", body)

    def marked(self, tree):
        return {"and": [leaf("title", "eq", self.mark), tree]}

    # ---- list filters ----------------------------------------------------------------------

    def test_list_filters_for_every_operator_and_bracket_style(self):
        for params, expected in FILTER_CASES:
            for style in BRACKET_STYLES:
                with self.subTest(params=params, brackets=style):
                    resp = self.list_leads(params, style)
                    self.assertEqual(set(self.names(resp)), expected)
                    self.assertIsNone(resp.body["next_cursor"])

    def test_list_records_are_complete_records(self):
        resp = self.list_leads([("filter[first_name]", "Bob")])
        self.assertEqual(resp.body["data"], [self.leads["Bob"]])

    def test_unknown_filter_field_or_operator_is_400_invalid_filter(self):
        bad = [
            [("filter[nope]", "1")],
            [("filter[nope][eq]", "1")],
            [("filter[score][like]", "1")],
            [("filter[score][between]", "1,2")],
            [("filter[score][gt]", "abc")],
            [("filter[company][is_null]", "maybe")],
            [("filter[status][eq]", "new"), ("filter[favourite_colour]", "teal")],
        ]
        for params in bad:
            for style in ("raw", "encoded"):
                with self.subTest(params=params, brackets=style):
                    self.assert_problem(self.list_leads(params, style), 400, "invalid_filter")

    # ---- sort --------------------------------------------------------------------------------

    def test_sort_by_several_keys_ascending_and_descending(self):
        for sort, params, expected in SORT_CASES:
            with self.subTest(sort=sort):
                resp = self.list_leads([*params, ("sort", sort)])
                self.assertEqual(self.names(resp), expected)

    def test_default_order_is_newest_first(self):
        self.assertEqual(self.names(self.list_leads([])), CREATION_ORDER[::-1])

    def test_unknown_sort_field_is_400_invalid_filter(self):
        for sort in ("nope", "-nope", "last_name,nope", "last_name;drop table leads"):
            with self.subTest(sort=sort):
                self.assert_problem(self.list_leads([("sort", sort)]), 400, "invalid_filter")

    # ---- limits ------------------------------------------------------------------------------

    def test_limit_out_of_bounds_is_400_invalid_parameter(self):
        for limit in ("0", "-1", "501", "abc", "1.5", ""):
            with self.subTest(list_limit=limit):
                self.assert_problem(self.list_leads([("limit", limit)]), 400, "invalid_parameter")
        for limit in (0, -1, 501, 100000):
            with self.subTest(search_limit=limit):
                self.assert_problem(self.search({"limit": limit}), 400, "invalid_parameter")

    def test_limit_500_is_allowed(self):
        self.assertEqual(set(self.names(self.list_leads([("limit", "500")]))), EVERYONE)
        self.assertEqual(set(self.names(self.search({"filter": leaf("title", "eq", self.mark),
                                                     "limit": 500}))), EVERYONE)

    def test_limit_1_pages_through_the_seed(self):
        names, cursor = [], None
        for _ in range(len(LEAD_SEED) + 1):
            params = [("limit", "1")] + ([("cursor", cursor)] if cursor else [])
            resp = self.list_leads(params)
            page = self.names(resp)
            cursor = resp.body["next_cursor"]
            names += page
            if cursor is None:
                break
            self.assertEqual(len(page), 1)
        self.assertIsNone(cursor)
        self.assertEqual(names, CREATION_ORDER[::-1])

    def test_bad_cursor_is_400_invalid_cursor(self):
        for cursor in ("garbage", "!!!", "eyJ4Ijoi", "A" * 5000, "%00", "null"):
            with self.subTest(cursor=cursor[:20]):
                resp = self.list_leads([("cursor", cursor)])
                self.assert_problem(resp, 400, "invalid_cursor")
                self.assert_problem(self.search({"cursor": cursor}), 400, "invalid_cursor")

    # ---- search ------------------------------------------------------------------------------

    def test_search_filter_trees(self):
        for tree, expected in SEARCH_CASES:
            with self.subTest(tree=tree):
                resp = self.search({"filter": self.marked(tree), "limit": 50, "cursor": None})
                self.assertEqual(set(self.names(resp)), expected)
                self.assertIsNone(resp.body["next_cursor"])

    def test_search_sorts_by_several_keys(self):
        resp = self.search({"filter": leaf("title", "eq", self.mark),
                            "sort": [{"field": "last_name", "dir": "asc"},
                                     {"field": "first_name", "dir": "desc"}]})
        self.assertEqual(self.names(resp), ["Ann", "Fay", "Bob", "Cid", "Dee", "Eve", "Gus", "Hal"])

    def test_search_pages_with_its_cursor(self):
        names, cursor = [], None
        for _ in range(10):
            resp = self.search({"filter": leaf("title", "eq", self.mark), "limit": 3,
                                "cursor": cursor, "sort": [{"field": "first_name", "dir": "asc"}]})
            names += self.names(resp)
            cursor = resp.body["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(names, sorted(EVERYONE))

    def test_bad_search_trees_are_400_invalid_filter(self):
        bad = [
            leaf("nope", "eq", 1),
            leaf("score", "like", 1),
            leaf("score", "gt", "abc"),
            leaf("source", "in", "web"),
            leaf("company", "is_null", "maybe"),
            {"field": "score", "op": "eq"},
            {"and": "not a list"},
            {"or": [leaf("score", "eq", 1), 42]},
            {"not": [leaf("score", "eq", 1)]},
            "status = new",
        ]
        for tree in bad:
            with self.subTest(tree=tree):
                self.assert_problem(self.search({"filter": tree}), 400, "invalid_filter")
        for sort in ([{"field": "nope", "dir": "asc"}], [{"field": "last_name", "dir": "up"}]):
            with self.subTest(sort=sort):
                self.assert_problem(self.search({"sort": sort}), 400, "invalid_filter")

    # ---- full text ---------------------------------------------------------------------------

    def test_q_matches_whole_words_and_a_prefix_of_the_last_term(self):
        cases = [("smi", {"Gus", "Hal"}), ("SMI", {"Gus", "Hal"}), ("smith", {"Gus", "Hal"}),
                 ("smithers", {"Hal"}), ("alpha", {"Ann", "Dee"}), ("ann alpha", {"Ann"}),
                 ("alpha part", {"Dee"}), ("zzqqxx", set())]
        for q, expected in cases:
            with self.subTest(q=q):
                resp = self.search({"q": q, "filter": leaf("title", "eq", self.mark)})
                self.assertEqual(set(self.names(resp)), expected)

    def test_q_combines_with_a_filter(self):
        resp = self.search({"q": "baker", "filter": self.marked(leaf("status", "eq", "converted"))})
        self.assertEqual(self.names(resp), ["Fay"])

    def test_q_ranks_better_matches_first(self):
        mark = unique("R")
        strong = self.create("leads", {"first_name": "Zephyr", "last_name": "Zephyr",
                                       "company": "Zephyr", "title": mark})
        weak = self.create("leads", {"first_name": "Quentin", "last_name": "Quill", "title": mark,
                                     "company": "Northwind Zephyr Trading Company Of Seven Seas"})
        self.create("leads", {"first_name": "Nobody", "last_name": "Else", "title": mark})
        resp = self.search({"q": "zephyr", "filter": leaf("title", "eq", mark)})
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual([r["id"] for r in resp.body["data"]], [strong["id"], weak["id"]])

    def test_q_ranks_equal_matches_newest_first(self):
        mark = unique("E")
        made = [self.create("leads", {"first_name": "Ysolde", "last_name": f"Tie{i}",
                                      "title": mark}) for i in range(3)]
        resp = self.search({"q": "ysolde", "filter": leaf("title", "eq", mark)})
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual([r["id"] for r in resp.body["data"]], [r["id"] for r in reversed(made)])

    def test_q_pages_without_duplicates(self):
        ids, cursor = [], None
        for _ in range(10):
            resp = self.search({"q": "baker", "filter": leaf("title", "eq", self.mark),
                                "limit": 1, "cursor": cursor})
            self.assertEqual(resp.status, 200, resp.body)
            ids += [r["id"] for r in resp.body["data"]]
            cursor = resp.body["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(sorted(ids), sorted([self.leads["Bob"]["id"], self.leads["Fay"]["id"]]))

    def test_q_whose_prefix_begins_many_words_finds_each_match(self):
        # On PostgreSQL a prefix becomes the words it begins, up to 64; beyond, it stays one.
        stem = "Quor" + "".join(chr(ord("a") + int(c, 16)) for c in unique("")[:8])
        words = [f"{stem}{chr(ord('a') + i // 26)}{chr(ord('a') + i % 26)}" for i in range(70)]
        resp = self.api("POST", f"{CONTACTS_PATH}/batch", {"create": [
            {"first_name": "Ann", "last_name": word} for word in words]})
        self.assertEqual(resp.status, 200, resp.body)
        ids = {word: record["id"] for word, record in zip(words, resp.body["created"])}
        cases = [(f"ann {stem}", set(ids.values())),
                 (f"ann {stem}b", {ids[w] for w in words if w[len(stem)] == "b"}),
                 (f"ann {stem}ca", {ids[stem + "ca"]}),
                 (f"ann {stem}z", set()), (stem, set(ids.values()))]
        for q, expected in cases:
            with self.subTest(q=q):
                resp = self.api("POST", f"{CONTACTS_PATH}/search", {"q": q, "limit": 100})
                self.assertEqual(resp.status, 200, resp.body)
                found = [r["id"] for r in resp.body["data"]]
                self.assertEqual(len(found), len(set(found)))
                self.assertEqual(set(found), expected)
                self.assertIsNone(resp.body["next_cursor"])
                sorted_resp = self.api("POST", f"{CONTACTS_PATH}/search", {
                    "q": q, "limit": 100, "sort": [{"field": "last_name", "dir": "asc"}]})
                self.assertEqual([r["id"] for r in sorted_resp.body["data"]],
                                 [ids[w] for w in words if ids[w] in expected])

    def test_q_prefix_of_many_words_pages_through_exactly_the_newest_matches(self):
        # 270 records whose names begin with the stem: one word in most of them, a word of its
        # own in every eighth, two of the words in ten (five oldest, five newest). Ranked search
        # scores the newest 200 matches (the rank window), so its pages hold exactly those, each
        # once, however the words share them (on PostgreSQL each word's list is read only as far
        # as the window can reach).
        stem = "Quab" + "".join(chr(ord("a") + int(c, 16)) for c in unique("")[:8])
        people = [(f"{stem}zz", f"{stem}aa")] * 5
        for i in range(260):
            own = f"{stem}b{chr(ord('a') + i // 8 // 26)}{chr(ord('a') + i // 8 % 26)}"
            people.append(("Ann", own if i % 8 == 0 else f"{stem}aa"))
        people += [(f"{stem}zz", f"{stem}aa")] * 5
        created = []
        for start in range(0, len(people), 100):
            resp = self.api("POST", f"{CONTACTS_PATH}/batch", {"create": [
                {"first_name": first, "last_name": last}
                for first, last in people[start:start + 100]]})
            self.assertEqual(resp.status, 200, resp.body)
            created += [record["id"] for record in resp.body["created"]]
        for q in (stem, stem.upper(), f"{stem}a", f"{stem}b"):
            with self.subTest(q=q):
                matching = [rid for rid, (first, last) in zip(created, people)
                            if first.lower().startswith(q.lower())
                            or last.lower().startswith(q.lower())]
                found = search_all_pages(self, q, limit=100)
                self.assertEqual(len(found), len(set(found)))
                self.assertEqual(set(found), set(matching[-200:]))

    def test_q_prefixes_of_every_length_find_the_words_they_begin(self):
        # A last term of any length, alone or after others, with and without diacritics, finds
        # the records with a word it begins (on PostgreSQL: spelled out as those words).
        mark = unique("P")
        people = [("Zoë", "Quist"), ("Zoe", "Quixote"), ("Zora", "Qu"), ("Quinn", "Zoellner"),
                  ("Ann", "Ångström"), ("Anneliese", "Quistorp")]
        for first, last in people:
            resp = self.api("POST", LEADS_PATH,
                            {"first_name": first, "last_name": last, "title": mark})
            self.assertEqual(resp.status, 201, resp.body)

        def fold(text):
            return "".join(c for c in unicodedata.normalize("NFKD", text.lower())
                           if not unicodedata.combining(c))

        def expected(q):
            terms = [fold(t) for t in q.split()]
            found = set()
            for first, last in people:
                words = {fold(first), fold(last)}
                if (all(t in words for t in terms[:-1]) and
                        any(w.startswith(terms[-1]) for w in words)):
                    found.add(first)
            return found

        words = sorted({fold(w) for person in people for w in person})
        queries = [word[:n] for word in words for n in range(1, len(word) + 1)]
        queries += ["zoe qu", "zoe quix", "zoë quixote", "zora q", "zora qu", "ann ang",
                    "ann ångs", "Ann ÅNGSTRÖ", "anneliese quisto", "quinn zoel", "quinn zoellne",
                    "zoe zo", "qu zo", "zoe qux", "ann quist"]
        for q in queries:
            with self.subTest(q=q):
                want = expected(q)
                ranked = self.search({"q": q, "filter": leaf("title", "eq", mark), "limit": 100})
                self.assertEqual(set(self.names(ranked)), want)
                self.assertEqual(len(self.names(ranked)), len(want))
                by_name = self.search({"q": q, "filter": leaf("title", "eq", mark), "limit": 100,
                                       "sort": [{"field": "first_name", "dir": "asc"}]})
                self.assertEqual(sorted(self.names(by_name)), sorted(want))
        # Not vacuous: short and long prefixes alike find several records, and some none.
        self.assertEqual(expected("qu"), {"Zoë", "Zoe", "Zora", "Quinn", "Anneliese"})
        self.assertEqual(expected("zoe qu"), {"Zoë", "Zoe"})
        self.assertEqual(expected("qu zo"), {"Zora"})
        self.assertEqual(expected("zoe qux"), set())

    def test_q_by_the_digits_of_a_phone_number(self):
        # Terms of digits alone are searched through another index on PostgreSQL than words.
        digits = str(int(unique("")[:8], 16) % 9000000 + 1000000)
        contact = self.create("contacts", {"first_name": "Ann", "last_name": "Dial",
                                           "phone": f"+1 555 {digits}"})
        for q, exact in ((digits, True), (f"ann {digits}", True), (f"{digits} ", True),
                         (digits[:4], False), (f"dial {digits[:5]}", False)):
            with self.subTest(q=q):
                resp = self.api("POST", f"{CONTACTS_PATH}/search", {"q": q, "limit": 500})
                self.assertEqual(resp.status, 200, resp.body)
                found = [r["id"] for r in resp.body["data"]]
                if exact:
                    self.assertEqual(found, [contact["id"]])
                else:
                    self.assertIn(contact["id"], found)

    def test_q_with_query_syntax_characters_is_plain_text(self):
        for q in ('"', "*", "AND", "OR NOT", "(", ")", "title:x", "-smith", "^", "smi*", "'",
                  "\\", "NEAR(a b)", 'a"b', "%", "_", "\u00e9t\u00e9", "   "):
            with self.subTest(q=q):
                resp = self.search({"q": q, "filter": leaf("title", "eq", self.mark)})
                self.assertEqual(resp.status, 200, resp.body)
                self.assertIsInstance(resp.body["data"], list)

    def test_q_on_contacts_finds_them_by_their_account_name(self):
        word = "Quixotic" + unique("")
        account = self.create("accounts", {"name": f"{word} Widgets"})
        contact = self.create("contacts", {"last_name": "Employee", "account_id": account["id"]})
        resp = self.api("POST", f"{CONTACTS_PATH}/search", {"q": word.lower()[:-2]})
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual([r["id"] for r in resp.body["data"]], [contact["id"]])

    def test_renaming_an_account_reindexes_its_contacts(self):
        old, new = "Zanzibar" + unique(""), "Yucatan" + unique("")
        account = self.create("accounts", {"name": f"{old} Trading"})
        contact = self.create("contacts", {"last_name": "Staff", "account_id": account["id"]})
        resp = self.api("PATCH", f"/api/v1/accounts/{account['id']}", {"name": f"{new} Trading"})
        self.assertEqual(resp.status, 200, resp.body)
        found = self.api("POST", f"{CONTACTS_PATH}/search", {"q": new.lower()})
        self.assertEqual([r["id"] for r in found.body["data"]], [contact["id"]])
        stale = self.api("POST", f"{CONTACTS_PATH}/search", {"q": old.lower()})
        self.assertEqual(stale.body["data"], [])

class Inserter(threading.Thread):
    """Creates contacts one by one until stopped; counts them under a Condition so a pager can
    wait for "at least one more insert" between pages."""

    def __init__(self, server, department, last_names):
        super().__init__(daemon=True)
        self.server, self.department, self.last_names = server, department, last_names
        self.cond = threading.Condition()
        self.ids, self.done, self.error = [], False, None
        self.stop_requested = threading.Event()

    def run(self):
        try:
            n = 0
            while not self.stop_requested.is_set():
                n += 1
                body = {"first_name": f"N{n:05d}", "department": self.department,
                        "last_name": self.last_names[n % len(self.last_names)]}
                resp = self.server.api("POST", CONTACTS_PATH, body)
                if resp.status != 201:
                    raise AssertionError(f"insert: {resp.status} {resp.body!r}")
                with self.cond:
                    self.ids.append(resp.body["id"])
                    self.cond.notify_all()
        except BaseException as error:  # reported by wait_for_more_than / stop
            self.error = error
        finally:
            with self.cond:
                self.done = True
                self.cond.notify_all()

    def wait_for_more_than(self, count, timeout=30):
        with self.cond:
            self.cond.wait_for(lambda: len(self.ids) > count or self.done, timeout)
            if self.error:
                raise AssertionError(f"inserter failed: {self.error!r}")
            if len(self.ids) <= count:
                raise AssertionError("inserter made no progress")
            return len(self.ids)

    def stop(self):
        self.stop_requested.set()
        self.join(timeout=60)
        if self.error:
            raise AssertionError(f"inserter failed: {self.error!r}")


class PaginationTest(ServerTestCase):
    LAST_NAMES = ["Adams", "Brown", "Clark", "Davis", "Evans", "Foster", "Garcia", "Hughes",
                  "Irwin", "Jones"]
    SEED_SIZE = 120
    SORTS = ["last_name,first_name", "-last_name,-first_name", "created_at", "-created_at"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.department = unique("dept-")
        records = [{"first_name": f"P{i:03d}", "department": cls.department,
                    "last_name": cls.LAST_NAMES[(i * 7) % len(cls.LAST_NAMES)]}
                   for i in range(cls.SEED_SIZE)]
        resp = cls.server.api("POST", f"{CONTACTS_PATH}/batch", {"create": records})
        if resp.status != 200 or len(resp.body.get("created", [])) != cls.SEED_SIZE:
            raise AssertionError(f"seeding via batch: {resp.status} {resp.body!r}")
        cls.known_ids = {record["id"] for record in resp.body["created"]}

    def page_through(self, sort=None, limit=7, before_each_page=lambda: None):
        """Returns the pages of the department's contacts, following next_cursor."""
        pages, cursor = [], None
        for _ in range(1000):
            before_each_page()
            params = [("filter[department]", self.department), ("limit", str(limit))]
            if sort:
                params.append(("sort", sort))
            if cursor:
                params.append(("cursor", cursor))
            resp = self.api("GET", f"{CONTACTS_PATH}?{query_string(params)}")
            self.assertEqual(resp.status, 200, resp.body)
            pages.append(resp.body["data"])
            cursor = resp.body["next_cursor"]
            if cursor is None:
                return pages
            self.assertEqual(len(resp.body["data"]), limit, "only the last page may be short")
        self.fail("pagination did not end")

    def assert_each_once(self, pages, expected_ids, may_also_contain=()):
        ids = [record["id"] for page in pages for record in page]
        self.assertEqual(len(ids), len(set(ids)), "a record appeared on two pages")
        missing = expected_ids - set(ids)
        self.assertFalse(missing, f"{len(missing)} records never appeared")
        unexpected = set(ids) - expected_ids - set(may_also_contain)
        self.assertFalse(unexpected, f"unknown records appeared: {unexpected}")

    def test_default_limit_is_50_and_500_is_allowed(self):
        resp = self.api("GET", f"{CONTACTS_PATH}?filter[department]={self.department}")
        self.assertEqual(len(resp.body["data"]), 50)
        self.assertIsNotNone(resp.body["next_cursor"])
        resp = self.api("GET", f"{CONTACTS_PATH}?filter[department]={self.department}&limit=500")
        self.assertEqual(len(resp.body["data"]), len(self.known_ids))
        self.assertIsNone(resp.body["next_cursor"])

    def test_paging_returns_every_record_exactly_once_in_order(self):
        for sort in [None, *self.SORTS]:
            for limit in (7, 50):
                with self.subTest(sort=sort, limit=limit):
                    pages = self.page_through(sort, limit)
                    self.assert_each_once(pages, set(self.known_ids))
                    records = [record for page in pages for record in page]
                    assert_sorted(self, records, sort or "-created_at")

    def test_paging_while_inserting_returns_every_preexisting_record_exactly_once(self):
        for sort in self.SORTS:
            with self.subTest(sort=sort):
                preexisting = set(self.known_ids)
                inserter = Inserter(self.server, self.department, self.LAST_NAMES)
                seen_inserts = [0]

                def let_an_insert_happen():
                    seen_inserts[0] = inserter.wait_for_more_than(seen_inserts[0])

                inserter.start()
                try:
                    pages = self.page_through(sort, 7, let_an_insert_happen)
                finally:
                    inserter.stop()
                    self.known_ids.update(inserter.ids)
                self.assertGreaterEqual(len(inserter.ids), len(pages))
                self.assert_each_once(pages, preexisting, inserter.ids)
                assert_sorted(self, [r for page in pages for r in page], sort)

    def test_search_paging_returns_every_record_exactly_once_in_order(self):
        records, cursor = [], None
        for _ in range(1000):
            resp = self.api("POST", f"{CONTACTS_PATH}/search", {
                "filter": leaf("department", "eq", self.department), "limit": 7, "cursor": cursor,
                "sort": [{"field": "last_name", "dir": "desc"},
                         {"field": "first_name", "dir": "asc"}]})
            self.assertEqual(resp.status, 200, resp.body)
            records += resp.body["data"]
            cursor = resp.body["next_cursor"]
            if cursor is None:
                break
        self.assert_each_once([records], set(self.known_ids))
        assert_sorted(self, records, "-last_name,first_name")

    def test_cursor_is_url_safe_or_round_trips_percent_encoded(self):
        resp = self.api("GET", f"{CONTACTS_PATH}?filter[department]={self.department}&limit=7")
        cursor = resp.body["next_cursor"]
        self.assertIsInstance(cursor, str)
        encoded = self.api("GET", f"{CONTACTS_PATH}?filter[department]={self.department}"
                                  f"&limit=7&cursor={quote_param(cursor)}")
        self.assertEqual(encoded.status, 200, encoded.body)
        first_ids = {r["id"] for r in resp.body["data"]}
        self.assertFalse(first_ids & {r["id"] for r in encoded.body["data"]})


class RankWindowTest(ServerTestCase):
    """Ranked `q` scores the newest 200 matches. The matches here are 150 old contacts, then more
    than 20,000 that do not match, then 100 new ones, so the window holds matches on both sides
    of the gap. On PostgreSQL a one-term search reads the term table: the new contacts carry two
    other terms the old ones' term begins (WORD + "a", WORD + "son"), so a prefix merges three
    terms' matches newest first and must give each new contact once; a search of several terms
    goes through the GIN index with its prefix spelled out as those terms."""
    WORD = "Quillfeather"
    OLD, FILLER, NEW = 150, 20050, 100

    @classmethod
    def create(cls, records):
        for start in range(0, len(records), 200):
            resp = cls.server.api("POST", f"{CONTACTS_PATH}/batch",
                                  {"create": records[start:start + 200]})
            if resp.status != 200:
                raise AssertionError(f"seeding via batch: {resp.status} {resp.body!r}")
            yield from (record["id"] for record in resp.body["created"])

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        old = list(cls.create([{"first_name": f"Old{i:03d}", "last_name": cls.WORD}
                               for i in range(cls.OLD)]))
        for _ in cls.create([{"first_name": "Filler", "last_name": f"Row{i:05d}"}
                             for i in range(cls.FILLER)]):
            pass
        new = list(cls.create([{"first_name": cls.WORD + "a", "last_name": cls.WORD + "son",
                                "title": f"New{i:03d}"} for i in range(cls.NEW)]))
        cls.old = set(old)
        cls.window = set(new) | set(old[-(200 - cls.NEW):])

    def test_the_newest_200_matches_across_the_walk_and_the_index(self):
        for q in (self.WORD.lower(), self.WORD[:7], self.WORD.upper()):
            ids = search_all_pages(self, q, limit=30)
            self.assertEqual(len(ids), len(set(ids)), f"{q}: a record on two pages")
            self.assertEqual(set(ids), self.window, q)

    def test_a_finished_term_is_matched_whole(self):
        # A trailing space ends the term: no prefix, so the 150 old contacts alone.
        ids = search_all_pages(self, self.WORD.lower() + " ", limit=30)
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(set(ids), self.old)

    def test_two_terms_meet_in_one_record(self):
        ids = search_all_pages(self, f"{self.WORD}a {self.WORD}so", limit=30)
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(set(ids), self.window - self.old)

    def test_a_cursor_with_a_window_of_its_own_is_400_invalid_cursor(self):
        first = self.api("POST", f"{CONTACTS_PATH}/search", {"q": self.WORD, "limit": 30})
        cursor = first.body["next_cursor"]
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        self.assertEqual((decoded["o"], decoded["w"]), (30, 200))
        for window, offset in ((100000, 30), (199, 30), (200, 200), ("200", 30)):
            forged = dict(decoded, w=window, o=offset)
            token = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
            resp = self.api("POST", f"{CONTACTS_PATH}/search",
                            {"q": self.WORD, "limit": 30, "cursor": token})
            self.assertEqual((resp.status, resp.body.get("code")), (400, "invalid_cursor"),
                             (window, offset))

    def test_a_rare_term_beyond_the_walk_is_found(self):
        ids = search_all_pages(self, "old007", limit=30)
        self.assertEqual(len(ids), 1)
        resp = self.api("GET", f"{CONTACTS_PATH}/{ids[0]}")
        self.assertEqual(resp.body["first_name"], "Old007")


@unittest.skipUnless(BACKEND == "postgres", "PostgreSQL's term tables (fts_<object>)")
class TermTableOfAnOlderDatabaseTest(ServerTestCase):
    """A database laid out before the term tables gets them at start-up, filled from its live
    records' search vectors; from then on the triggers keep them."""

    def search(self, q):
        resp = self.api("POST", f"{CONTACTS_PATH}/search", {"q": q})
        self.assertEqual(resp.status, 200, resp.body)
        return {record["id"] for record in resp.body["data"]}

    def test_the_terms_of_live_records_are_filled_in_and_kept_after(self):
        word = "Vexillum" + unique("")
        live = self.create("contacts", {"first_name": "Ada", "last_name": word,
                                        "email": f"ada.{unique('')}@pii.example"})
        gone = self.create("contacts", {"first_name": "Bea", "last_name": word})
        self.assertEqual(self.api("DELETE", f"{CONTACTS_PATH}/{gone['id']}").status, 204)
        self.server.stop()
        self.sql_exec("DROP TABLE fts_contacts")
        self.sql_exec("DROP FUNCTION zebros_sync_fts_contacts() CASCADE")
        self.server.start()

        self.assertEqual(self.search(word.lower()), {live["id"]})
        self.assertEqual(self.search(word[:6]), {live["id"]})
        rows = self.sql("SELECT pii FROM fts_contacts f JOIN obj_contacts o ON o.rowid = f.rowid"
                        " WHERE o.id = ? AND f.term = ?", (live["id"], "pii"))
        self.assertEqual(rows, [("t",)])  # the e-mail's domain word: in a pii field only
        restored = self.api("POST", f"{CONTACTS_PATH}/{gone['id']}/restore")
        self.assertEqual(restored.status, 200, restored.body)
        self.assertEqual(self.search(word.lower()), {live["id"], gone["id"]})
        renamed = self.api("PATCH", f"{CONTACTS_PATH}/{live['id']}", {"last_name": "Other"})
        self.assertEqual(renamed.status, 200, renamed.body)
        self.assertEqual(self.search(word.lower()), {gone["id"]})
        self.assertEqual(self.search("ada other"), {live["id"]})
        self.assertIn(live["id"], self.search("other"))


if __name__ == "__main__":
    unittest.main()
