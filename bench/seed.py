#!/usr/bin/env python3
"""Deterministic seeding tool for the Zebros CRM benchmarks (Python 3 standard library only).

Creates accounts first, then contacts, through the batch endpoints
(`POST /api/v1/{accounts,contacts}/batch`, body `{"create":[...]}`, at most 200 records each),
over keep-alive http.client connections in several threads.

The data is a pure function of `--seed` and the counts: the same seed gives the same records in
the same order (record i always lands in the same batch, whatever the thread count). Realism:
first and last names from several cultures, loosely tied to the mailing country; e-mails
`firstname.lastname.N@domain` (N = the record's index, so they are unique per tenant); titles and
departments; cities and ISO country codes; lifecycle stages and tags with skewed frequencies.

Writes into `--out` (default bench/out):
  ids.txt            a sample of contact ids (every Nth created contact, in creation order)
  search_terms.txt   search queries drawn from the generated names (whole names, prefixes, pairs)
  seed.json          what was seeded, how fast, and a digest of the request bodies
  create_bodies.txt  contact bodies for the create scenario (bench/wrk/create.lua), one JSON per
                     line, drawn like the seeded ones, so that create runs add contacts that look
                     like the rest instead of skewing names, stages and countries

Examples:
  bench/seed.py --url http://127.0.0.1:8080 --data-dir /tmp/zdata
  bench/seed.py --dry-run --contacts 200000            # generate only, print the rate
  bench/seed.py --dry-run --contacts 1000 --validate --dump - | head -c 600
  bench/seed.py --create-bodies-only --out DIR.seed    # create_bodies.txt alone, no server
"""

import argparse
import hashlib
import http.client
import json
import os
import queue
import random
import re
import sys
import threading
import time
import unicodedata
import urllib.parse

MAX_BATCH = 200

# --------------------------------------------------------------------------------------------
# Name pools. Common given names and surnames per culture (romanised where the script is not
# Latin). Accents are kept in the record; the e-mail uses an ASCII folding of the name.
# --------------------------------------------------------------------------------------------
CULTURES = {
    "en_us": (
        "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
        "Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Daniel Nancy Matthew Lisa "
        "Anthony Ashley Mark Emily Steven Michelle Andrew Amanda Kevin Melissa Brian Stephanie",
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Moore Jackson "
        "Martin Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott "
        "Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker",
    ),
    "en_gb": (
        "Oliver Amelia George Olivia Harry Isla Jack Emily Charlie Ava Jacob Jessica Thomas Ella "
        "Oscar Sophie Alfie Grace Henry Chloe Leo Lucy Archie Poppy Freddie Evie Harriet Rory",
        "Evans Thomas Roberts Walker Wright Robinson Thompson Hughes Edwards Green Hall Wood "
        "Harris Lewis Martin Jackson Clarke Clark Turner Hill Scott Cooper Morris Ward Watson "
        "O'Brien Murphy Kelly Byrne Walsh",
    ),
    "de": (
        "Lukas Anna Leon Lea Finn Hannah Jonas Mia Paul Lena Felix Emma Maximilian Sophie "
        "Elias Marie Julian Laura Niklas Johanna Tobias Katharina Jürgen Sabine Uwe Petra "
        "Stefan Claudia Andreas Monika Matthias Birgit Dieter Ursula",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
        "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger "
        "Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann Huber Gruber",
    ),
    "fr": (
        "Jean Marie Pierre Camille Louis Léa Gabriel Chloé Hugo Manon Jules Inès Arthur Sarah "
        "Raphaël Juliette Théo Lucie Nicolas Céline François Hélène Mathieu Élodie Benoît "
        "Aurélie Sébastien Margaux",
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
        "Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André "
        "Mercier Dupont Lambert Bonnet François Peeters Janssens",
    ),
    "es": (
        "José María Antonio Carmen Juan Ana Manuel Laura Francisco Isabel Javier Lucía Carlos "
        "Elena Miguel Marta Alejandro Sofía Diego Valentina Pablo Paula Santiago Camila "
        "Mateo Martina Andrés Ximena",
        "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín "
        "Jiménez Ruiz Hernández Díaz Moreno Álvarez Muñoz Romero Alonso Gutiérrez Navarro "
        "Torres Domínguez Vázquez Ramos Castillo Flores Ortiz De_la_Cruz",
    ),
    "it": (
        "Francesco Giulia Alessandro Sofia Lorenzo Aurora Matteo Alice Leonardo Ginevra "
        "Andrea Chiara Marco Francesca Giuseppe Federica Luca Valentina Davide Elisa Simone "
        "Martina Stefano Silvia",
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo "
        "Conti De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro",
    ),
    "pt": (
        "João Maria Pedro Ana Lucas Beatriz Gabriel Mariana Rafael Júlia Gustavo Larissa "
        "Thiago Fernanda Bruno Camila Felipe Letícia Rodrigo Carolina Tiago Inês",
        "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro "
        "Martins Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento",
    ),
    "nl": (
        "Daan Emma Sem Julia Lucas Tess Levi Sophie Finn Anna Bram Fleur Jesse Lotte Thijs "
        "Sanne Ruben Eva Pieter Maaike Joost Ilse",
        "de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer "
        "de_Boer Mulder de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer",
    ),
    "pl": (
        "Jakub Zofia Antoni Julia Jan Zuzanna Szymon Hanna Filip Maja Kacper Lena Piotr Anna "
        "Tomasz Katarzyna Łukasz Małgorzata Krzysztof Agnieszka Paweł Magdalena",
        "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński "
        "Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk",
    ),
    "nordic": (
        "Lars Anna Erik Maria Magnus Ingrid Anders Karin Johan Sofia Nils Astrid Oskar Elsa "
        "Mikkel Freja Søren Signe Henrik Linnea Bjørn Sigrid Åsa Kristian",
        "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson "
        "Gustafsson Hansen Johansen Olsen Nielsen Jensen Pedersen Kristiansen Berg Haugen "
        "Lindqvist Bergström Lindberg",
    ),
    "in": (
        "Aarav Aanya Vivaan Diya Aditya Ananya Arjun Priya Rohan Isha Rahul Neha Vikram Pooja "
        "Sanjay Kavya Amit Sneha Rajesh Deepika Karan Meera",
        "Sharma Verma Gupta Patel Singh Kumar Reddy Iyer Nair Rao Mehta Joshi Desai Shah "
        "Chopra Kapoor Malhotra Banerjee Chatterjee Mukherjee Pillai Agarwal",
    ),
    "zh": (
        "Wei Fang Jun Li Hao Mei Lei Jing Yang Xin Chen Yan Ming Hui Tao Ying Qiang Ling "
        "Jian Xiu Bo Na",
        "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo "
        "Tan Ng Lim",
    ),
    "ja": (
        "Haruto Yui Sota Hina Yuto Aoi Riku Sakura Takumi Yuna Kenji Akiko Hiroshi Yuki "
        "Daiki Mei Shota Nanami Kaito Emi",
        "Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato "
        "Yoshida Yamada Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Mori",
    ),
    "ko": (
        "Min-jun Seo-yeon Ji-hoon Ji-woo Hyun-woo Soo-ah Jae-won Ha-eun Dong-hyun Min-seo "
        "Sung-min Ye-jin Joon-ho Eun-ji",
        "Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang",
    ),
    "ar": (
        "Mohammed Fatima Ahmed Aisha Omar Mariam Ali Layla Youssef Nour Hassan Sara Khalid "
        "Huda Ibrahim Amira Karim Yasmin Tariq Rania",
        "Al-Sayed Hassan Hussein Ibrahim Mahmoud Mansour Haddad Khalil Nasser Saleh Farouk "
        "Aziz Rahman Qureshi Hamdan El-Amin Darwish Habib",
    ),
    "tr": (
        "Mehmet Zeynep Mustafa Elif Ahmet Ayşe Emre Fatma Burak Merve Can Ebru Murat Selin "
        "Oğuz Büşra",
        "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan "
        "Kılıç Aslan Çetin Kara",
    ),
    "ng": (
        "Chinedu Ngozi Emeka Chiamaka Oluwaseun Funmilayo Tunde Adaeze Ikechukwu Amaka "
        "Babajide Folake Obinna Yetunde Segun Kemi",
        "Okafor Adeyemi Okonkwo Olawale Eze Nwosu Balogun Adebayo Obi Chukwu Ogunleye "
        "Afolabi Ibekwe Oyelaran Nnamdi Abiodun",
    ),
}


def _split_names(text):
    """Splits a space-separated pool; '_' stands for a space inside a name (van_den_Berg)."""
    return list(dict.fromkeys(w.replace("_", " ") for w in text.split()))  # order kept


# (code, weight, phone prefix, cultures living there, cities)
COUNTRIES = [
    ("US", 220, "+1", ["en_us"], "New York|Chicago|San Francisco|Austin|Seattle|Boston|Denver|Atlanta|Miami|Los Angeles"),
    ("DE", 100, "+49", ["de"], "Berlin|München|Hamburg|Köln|Frankfurt am Main|Stuttgart|Düsseldorf|Leipzig"),
    ("GB", 90, "+44", ["en_gb"], "London|Manchester|Birmingham|Leeds|Edinburgh|Glasgow|Bristol|Cambridge"),
    ("FR", 70, "+33", ["fr"], "Paris|Lyon|Marseille|Toulouse|Nantes|Bordeaux|Lille|Strasbourg"),
    ("IN", 50, "+91", ["in"], "Bengaluru|Mumbai|New Delhi|Hyderabad|Pune|Chennai"),
    ("CA", 40, "+1", ["en_us", "fr"], "Toronto|Montréal|Vancouver|Calgary|Ottawa"),
    ("ES", 40, "+34", ["es"], "Madrid|Barcelona|Valencia|Sevilla|Bilbao|Málaga"),
    ("IT", 40, "+39", ["it"], "Milano|Roma|Torino|Bologna|Firenze|Napoli"),
    ("BR", 40, "+55", ["pt"], "São Paulo|Rio de Janeiro|Belo Horizonte|Curitiba|Porto Alegre"),
    ("NL", 35, "+31", ["nl"], "Amsterdam|Rotterdam|Utrecht|Eindhoven|Den Haag"),
    ("JP", 30, "+81", ["ja"], "Tokyo|Osaka|Yokohama|Nagoya|Fukuoka"),
    ("AU", 30, "+61", ["en_gb", "en_us"], "Sydney|Melbourne|Brisbane|Perth|Adelaide"),
    ("MX", 25, "+52", ["es"], "Ciudad de México|Guadalajara|Monterrey|Puebla"),
    ("PL", 25, "+48", ["pl"], "Warszawa|Kraków|Wrocław|Gdańsk|Poznań"),
    ("SE", 20, "+46", ["nordic"], "Stockholm|Göteborg|Malmö|Uppsala"),
    ("CH", 20, "+41", ["de", "fr", "it"], "Zürich|Genève|Basel|Bern|Lausanne"),
    ("CN", 20, "+86", ["zh"], "Shanghai|Beijing|Shenzhen|Hangzhou|Guangzhou"),
    ("AT", 15, "+43", ["de"], "Wien|Graz|Linz|Salzburg"),
    ("BE", 15, "+32", ["fr", "nl"], "Bruxelles|Antwerpen|Gent|Liège"),
    ("IE", 10, "+353", ["en_gb"], "Dublin|Cork|Galway"),
    ("DK", 10, "+45", ["nordic"], "København|Aarhus|Odense"),
    ("NO", 10, "+47", ["nordic"], "Oslo|Bergen|Trondheim"),
    ("PT", 10, "+351", ["pt"], "Lisboa|Porto|Braga"),
    ("KR", 10, "+82", ["ko"], "Seoul|Busan|Incheon"),
    ("SG", 10, "+65", ["zh", "in", "en_gb"], "Singapore"),
    ("AE", 10, "+971", ["ar", "in"], "Dubai|Abu Dhabi|Sharjah"),
    ("TR", 10, "+90", ["tr"], "İstanbul|Ankara|İzmir"),
    ("NG", 10, "+234", ["ng"], "Lagos|Abuja|Port Harcourt"),
    ("AR", 10, "+54", ["es"], "Buenos Aires|Córdoba|Rosario"),
    ("ZA", 10, "+27", ["en_gb", "ng"], "Johannesburg|Cape Town|Durban"),
]

LIFECYCLE_STAGES = [  # (value, weight per 100)
    ("subscriber", 25), ("lead", 25), ("marketing_qualified", 12), ("sales_qualified", 8),
    ("opportunity", 8), ("customer", 15), ("evangelist", 3), ("other", 4),
]

DEPARTMENTS = {
    "Sales": "Account Executive|Sales Manager|VP Sales|Sales Development Representative|Regional Sales Director|Key Account Manager",
    "Marketing": "Marketing Manager|Chief Marketing Officer|Content Strategist|Demand Generation Manager|Product Marketing Manager",
    "Engineering": "Software Engineer|Engineering Manager|CTO|Senior Developer|DevOps Engineer|Solutions Architect",
    "Finance": "CFO|Controller|Financial Analyst|Accounts Payable Specialist|Head of Finance",
    "Operations": "COO|Operations Manager|Supply Chain Manager|Logistics Coordinator",
    "Human Resources": "HR Manager|Recruiter|Head of People|HR Business Partner",
    "IT": "IT Manager|CIO|System Administrator|IT Director|Security Engineer",
    "Executive": "CEO|Founder|Managing Director|General Manager|President",
    "Customer Success": "Customer Success Manager|Support Lead|Head of Customer Success",
    "Legal": "General Counsel|Legal Counsel|Compliance Officer",
    "Procurement": "Procurement Manager|Purchasing Agent|Head of Procurement",
    "Product": "Product Manager|Head of Product|Product Owner",
}

TAGS = [  # (tag, weight)
    ("newsletter", 30), ("webinar", 14), ("trade-show", 10), ("vip", 4), ("partner", 6),
    ("referral", 8), ("churn-risk", 5), ("enterprise", 9), ("smb", 12), ("beta-tester", 3),
    ("event-2024", 7), ("event-2025", 7), ("decision-maker", 8), ("influencer", 4),
    ("renewal-q1", 3), ("renewal-q3", 3), ("upsell", 5), ("inbound", 15), ("outbound", 10),
    ("cold", 6),
]

FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "gmx.de",
             "web.de", "orange.fr", "libero.it", "hotmail.co.uk"]

COMPANY_PREFIXES = _split_names(
    "Northwind Contoso Fabrikam Globex Initech Umbrella Stark Wayne Acme Vandelay Hooli "
    "Pied_Piper Blue_Harbor Silverline Ironbridge Redwood Evergreen Summit Pinnacle Bluefin "
    "Brightwave Clearwater Crescent Everest Falcon Granite Harbor Horizon Juniper Keystone "
    "Lakeside Lighthouse Meridian Nimbus Oakridge Orion Polaris Quantum Riverside Sapphire "
    "Sequoia Skyline Starlight Sterling Sunrise Tidewater Trident Vertex Westbrook Zenith "
    "Alpenglow Nordlicht Rheinland Hanse Lumière Soleil Azur Iberia Aurora Vela Fjord "
    "Sakura Lotus Ganges Baobab Atlas Cobalt Copper Emerald Indigo Onyx Scarlet Amber "
    "Beacon Catalyst Cornerstone Frontier Heritage Liberty Momentum Pioneer Prism Radiant "
    "Spectrum Synergy Vanguard Velocity Vista Maple Cedar Willow Aspen Birch Elm Hawthorn"
)

COMPANY_CORES = [  # (word, industry: one of the server's accounts.industry enum values)
    ("Logistics", "transportation"), ("Systems", "technology"), ("Analytics", "technology"),
    ("Software", "technology"), ("Cloud", "technology"), ("Networks", "telecommunications"),
    ("Telecom", "telecommunications"), ("Foods", "manufacturing"), ("Brewing", "manufacturing"),
    ("Consulting", "consulting"), ("Partners", "consulting"), ("Advisors", "financial_services"),
    ("Capital", "financial_services"), ("Bank", "financial_services"),
    ("Insurance", "financial_services"), ("Health", "healthcare"), ("Medical", "healthcare"),
    ("Pharma", "healthcare"), ("Biotech", "healthcare"), ("Energy", "energy"), ("Solar", "energy"),
    ("Motors", "manufacturing"), ("Mobility", "transportation"),
    ("Manufacturing", "manufacturing"), ("Industries", "manufacturing"),
    ("Robotics", "manufacturing"), ("Construction", "construction"), ("Realty", "real_estate"),
    ("Properties", "real_estate"), ("Retail", "retail"), ("Outfitters", "retail"),
    ("Media", "media"), ("Studios", "media"), ("Education", "education"),
    ("Learning", "education"), ("Travel", "hospitality"), ("Hotels", "hospitality"),
    ("Aerospace", "manufacturing"), ("Chemicals", "manufacturing"), ("Textiles", "manufacturing"),
    ("Design", "other"), ("Labs", "technology"), ("Security", "technology"),
    ("Payments", "financial_services"), ("Shipping", "transportation"), ("Agro", "agriculture"),
    ("Farms", "agriculture"), ("Water", "other"), ("Foundation", "nonprofit"),
    ("Authority", "government"),
]

INDUSTRIES = {"agriculture", "construction", "consulting", "education", "energy",
              "financial_services", "government", "healthcare", "hospitality", "manufacturing",
              "media", "nonprofit", "real_estate", "retail", "technology", "telecommunications",
              "transportation", "other"}  # accounts.industry (src/domain/builtin_schemas.cc)
assert all(industry in INDUSTRIES for _, industry in COMPANY_CORES)

LEGAL_FORMS = ["Inc.", "LLC", "Ltd", "GmbH", "AG", "SAS", "S.A.", "S.L.", "B.V.", "AB", "S.p.A.",
               "Pty Ltd", "K.K.", "Co.", "Group", "Holdings", ""]
TLDS = ["com"] * 8 + ["io", "de", "co.uk", "fr", "net", "eu", "es", "it", "nl", "ch"]

EMPLOYEE_BANDS = [(1, 10, 25), (11, 50, 30), (51, 200, 22), (201, 1000, 14), (1001, 5000, 6),
                  (5001, 50000, 3)]

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "AE",
                       "đ": "d", "ı": "i", "İ": "I", "œ": "oe"})


def ascii_fold(text):
    """`Müller` -> `muller`, `O'Brien` -> `obrien`, `de la Cruz` -> `delacruz`."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if c.isascii() and c.isalnum()).lower()


def slug(text):
    return ascii_fold(text.replace("&", "and"))


def jstr(value):
    """A JSON string literal, UTF-8 kept as is."""
    return json.dumps(value, ensure_ascii=False)


def weighted_table(pairs, size=1000):
    """A lookup table of about `size` entries in which each value appears in proportion to its
    weight: a uniform pick from it is a weighted pick, and costs one index."""
    total = sum(w for _, w in pairs)
    table = []
    for value, weight in pairs:
        table.extend([value] * max(1, round(size * weight / total)))
    return table


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------
class Generator:
    """Pre-builds every JSON fragment once, so a contact costs a handful of random draws, list
    indexings and one f-string."""

    def __init__(self, seed, accounts):
        self.seed = seed
        pool_rng = random.Random(seed * 1000 + 3)

        # Per culture: first names and last names as (json literal, ascii slug, raw text).
        self.cultures = {}
        for key, (firsts, lasts) in CULTURES.items():
            self.cultures[key] = (
                [(jstr(n), ascii_fold(n), n) for n in _split_names(firsts)],
                [(jstr(n), ascii_fold(n), n) for n in _split_names(lasts)],
            )
        culture_keys = list(CULTURES)

        # Per country: city fragments, phone prefix, the culture table (75% local, 25% any).
        countries = []
        for code, weight, phone, home, cities in COUNTRIES:
            city_frags = [f',"mailing_city":{jstr(c)},"mailing_country":"{code}"'
                          for c in cities.split("|")]
            cult_table = []
            for k in home:
                cult_table += [k] * (75 * len(culture_keys) // len(home))
            cult_table += culture_keys * 25
            cult_table = [self.cultures[k] for k in cult_table]
            countries.append(((code, city_frags, phone + " ", cult_table), weight))
        self.country_table = weighted_table(countries)

        self.stage_frags = weighted_table(
            [(f',"lifecycle_stage":"{s}"', w) for s, w in LIFECYCLE_STAGES])

        self.title_frags = []
        for dept, titles in DEPARTMENTS.items():
            for t in titles.split("|"):
                self.title_frags.append(f',"title":{jstr(t)},"department":{jstr(dept)}')
        # Some contacts have a department but no title, some neither.
        self.title_frags += [f',"department":{jstr(d)}' for d in list(DEPARTMENTS)[:4]]
        self.title_frags += [""] * (len(self.title_frags) // 8)

        # Tag sets: 35% none, the rest 1-3 distinct tags drawn by weight.
        tag_table = weighted_table(TAGS, 200)
        tag_frags = []
        for _ in range(400):
            count = 1 + int(pool_rng.random() * 3)
            tags = []
            while len(tags) < count:
                t = tag_table[int(pool_rng.random() * len(tag_table))]
                if t not in tags:
                    tags.append(t)
            tag_frags.append(',"tags":' + json.dumps(tags))
        self.tag_frags = [',"tags":[]'] * 140 + [""] * 75 + tag_frags  # ~35% without tags
        self.dne_frags = [',"do_not_email":true'] * 5 + [',"do_not_email":false'] * 95

        # Companies: the accounts to create (or, with --accounts 0, a pool for e-mail domains).
        self.accounts = self._companies(accounts if accounts > 0 else 2000)
        self.mail_domains = [a["domain"] for a in self.accounts] * 7 + FREE_MAIL * (
            max(1, len(self.accounts) * 3 // len(FREE_MAIL)))

    def _companies(self, n):
        rng = random.Random(self.seed * 1000 + 1)
        r = rng.random
        prefixes = COMPANY_PREFIXES
        band_table = weighted_table([((lo, hi), w) for lo, hi, w in EMPLOYEE_BANDS], 100)
        seen_names, seen_domains, out = set(), set(), []
        while len(out) < n:
            prefix = prefixes[int(r() * len(prefixes))]
            core, industry = COMPANY_CORES[int(r() * len(COMPANY_CORES))]
            legal = LEGAL_FORMS[int(r() * len(LEGAL_FORMS))]
            name = f"{prefix} {core} {legal}".strip()
            base = f"{prefix} {core}"
            if name in seen_names:
                name = f"{prefix} {core} {len(out)} {legal}".strip()
                base = f"{prefix} {core} {len(out)}"
            seen_names.add(name)
            stem = slug(base)
            tld = TLDS[int(r() * len(TLDS))]
            domain = f"{stem}.{tld}"
            if domain in seen_domains:
                domain = f"{stem}{len(out)}.{tld}"
            seen_domains.add(domain)
            lo, hi = band_table[int(r() * len(band_table))]
            employees = lo + int(r() * (hi - lo + 1))
            revenue = employees * (60000 + int(r() * 240000))
            out.append({"name": name, "domain": domain, "industry": industry,
                        "employees": employees, "annual_revenue": revenue})
        return out

    def account_records(self):
        """JSON texts of the accounts, in order."""
        return [json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in self.accounts]

    def contacts(self, start, count, rng, terms_every, terms_out):
        """Returns `count` contact JSON texts with indexes start..start+count-1, drawing from `rng`
        (advanced by the same amount per record whatever the batch size). Every `terms_every`-th
        record's names are appended to `terms_out`."""
        r = rng.random
        country_table, n_country = self.country_table, len(self.country_table)
        stages, n_stages = self.stage_frags, len(self.stage_frags)
        titles, n_titles = self.title_frags, len(self.title_frags)
        tags, n_tags = self.tag_frags, len(self.tag_frags)
        dne, n_dne = self.dne_frags, len(self.dne_frags)
        domains, n_domains = self.mail_domains, len(self.mail_domains)
        out = []
        append = out.append
        for i in range(start, start + count):
            code, city_frags, phone_prefix, cult_table = country_table[int(r() * n_country)]
            firsts, lasts = cult_table[int(r() * len(cult_table))]
            fj, fa, fraw = firsts[int(r() * len(firsts))]
            lj, la, lraw = lasts[int(r() * len(lasts))]
            x = int(r() * 1e15)  # one draw split into the small independent choices below
            phone = (f',"phone":"{phone_prefix}{x % 90 + 10} {x // 100 % 9000000 + 1000000}"'
                     if x % 10 < 8 else "")
            y = int(r() * 1e12)
            mobile = (f',"mobile":"{phone_prefix}1{y % 100:02d} {y // 100 % 9000000 + 1000000}"'
                      if y // 1000000000 % 5 < 3 else "")
            append(
                f'{{"first_name":{fj},"last_name":{lj},'
                f'"email":"{fa}.{la}.{i}@{domains[int(r() * n_domains)]}"'
                f'{phone}{mobile}{titles[int(r() * n_titles)]}{stages[int(r() * n_stages)]}'
                f'{city_frags[int(r() * len(city_frags))]}{tags[int(r() * n_tags)]}'
                f'{dne[int(r() * n_dne)]}}}')
            if i % terms_every == 0:
                terms_out.append((i, fraw, lraw))
        return out


def build_search_terms(samples, limit):
    """Search queries from the names of sampled records, so each one matches something: whole
    last names, whole first names, "first last" pairs, last-name prefixes (3-5 characters, the
    server does prefix matching on the last term) and "first lastprefix"."""
    terms = []
    for n, (i, first, last) in enumerate(samples):
        kind = n % 6
        last_word = last.split()[-1]
        if kind == 0:
            terms.append(last.lower())
        elif kind == 1:
            terms.append(first.lower())
        elif kind == 2:
            terms.append(f"{first} {last}".lower())
        elif kind == 3:
            terms.append(last_word[: 3 + i % 3].lower())
        elif kind == 4:
            terms.append(f"{first} {last_word[:4]}".lower())
        else:
            terms.append(last_word[:4].lower())
    terms = [t for t in dict.fromkeys(terms) if len(t.replace(" ", "")) >= 2]
    return terms[:limit]


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------
class Failure(Exception):
    pass


ID_RE = {prefix: re.compile(rb'"id"\s*:\s*"(' + prefix.encode() + rb'_[0-9A-Za-z]+)"')
         for prefix in ("con", "acc")}
ANY_ID_RE = {prefix: re.compile(rb'"(' + prefix.encode() + rb'_[0-9A-Za-z]{10,40})"')
             for prefix in ("con", "acc")}


def extract_ids(body, prefix):
    """The created record ids in response order: the values of "id" keys with the type's prefix
    (`{"created":[{"id":"con_...",...},...]}` and the like), or else every quoted string that
    looks like such an id (`{"ids":["con_...",...]}`)."""
    ids = ID_RE[prefix].findall(body)
    if not ids:
        ids = ANY_ID_RE[prefix].findall(body)
    return [i.decode() for i in ids]


class Client:
    def __init__(self, url, key, timeout):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http":
            raise SystemExit(f"only http:// URLs are supported, got {url}")
        self.host, self.port = u.hostname, u.port or 80
        self.base = u.path.rstrip("/")
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Accept": "application/json",
                        "Authorization": f"Bearer {key}"}
        self.conn = None

    def post(self, path, body, retries=3):
        """POSTs and returns (status, body bytes). Retries only when the request could not be
        sent (connection refused/reset before a response), never after a response."""
        for attempt in range(retries + 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", self.base + path, body=body, headers=self.headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.conn.close()
                    self.conn = None
                return resp.status, data
            except (ConnectionError, http.client.RemoteDisconnected,
                    http.client.CannotSendRequest) as e:
                self.conn.close()
                self.conn = None
                if attempt == retries:
                    raise Failure(f"POST {path}: {e}") from e
                time.sleep(0.2 * (attempt + 1))

    def close(self):
        if self.conn is not None:
            self.conn.close()


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------
class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.done = 0
        self.error = None


def fmt_rate(n, secs):
    return f"{n / secs:,.0f}/s" if secs > 0 else "-"


def run_phase(name, batches, total, args, client_factory, path, id_prefix, on_ids, log):
    """Posts `batches` (an iterator of (batch_no, first_index, count, body)) with args.threads
    workers; `on_ids(first_index, ids)` receives the created ids of each batch."""
    stats = Stats()
    q = queue.Queue(maxsize=args.threads * 4)
    stop = threading.Event()

    def worker():
        client = client_factory()
        try:
            while True:
                item = q.get()
                if item is None:
                    return
                if stop.is_set():
                    continue
                batch_no, first, count, body = item
                try:
                    status, data = client.post(path, body)
                    if status not in (200, 201):
                        raise Failure(f"{name} batch {batch_no}: HTTP {status}: "
                                      f"{data[:500].decode('utf-8', 'replace')}")
                    on_ids(first, count, extract_ids(data, id_prefix))
                except Exception as e:  # noqa: BLE001 - reported, then the run stops
                    with stats.lock:
                        if stats.error is None:
                            stats.error = e
                    stop.set()
                    continue
                with stats.lock:
                    stats.done += count
        finally:
            client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    last_print = t0
    for item in batches:
        while True:
            try:
                q.put(item, timeout=0.5)
                break
            except queue.Full:
                if stop.is_set():
                    break
        if stop.is_set():
            break
        now = time.monotonic()
        if now - last_print >= args.progress:
            last_print = now
            done = stats.done
            eta = (total - done) / (done / (now - t0)) if done else 0
            log(f"{name}: {done:,}/{total:,} ({100 * done / total:.1f}%) "
                f"{fmt_rate(done, now - t0)}, eta {eta:.0f}s")
    for _ in threads:
        q.put(None)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    if stats.error is not None:
        raise Failure(str(stats.error))
    log(f"{name}: {stats.done:,} created in {elapsed:.1f}s ({fmt_rate(stats.done, elapsed)})")
    return stats.done, elapsed


def batches_of(records_iter, batch_size):
    """Groups an iterator of (index, json) into (batch_no, first_index, count, body bytes)."""
    batch_no, buf, first = 0, [], None
    for index, rec in records_iter:
        if first is None:
            first = index
        buf.append(rec)
        if len(buf) == batch_size:
            yield batch_no, first, len(buf), ('{"create":[' + ",".join(buf) + "]}").encode()
            batch_no, buf, first = batch_no + 1, [], None
    if buf:
        yield batch_no, first, len(buf), ('{"create":[' + ",".join(buf) + "]}").encode()


def read_key(args):
    if args.key:
        return args.key.strip()
    path = args.key_file or (os.path.join(args.data_dir, "bootstrap-admin-key")
                             if args.data_dir else None)
    if path:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    if os.environ.get("ZEBROS_KEY"):
        return os.environ["ZEBROS_KEY"].strip()
    raise SystemExit("no API key: pass --key, --key-file, --data-dir or set ZEBROS_KEY")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8080", help="server base URL")
    p.add_argument("--key", help="API key (Bearer)")
    p.add_argument("--key-file", help="file holding the API key")
    p.add_argument("--data-dir", help="server data dir: read DIR/bootstrap-admin-key")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--contacts", type=int, default=1_000_000)
    p.add_argument("--accounts", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--batch", type=int, default=MAX_BATCH, help=f"records per request (<= {MAX_BATCH})")
    p.add_argument("--start-index", type=int, default=0,
                   help="index of the first contact (used in e-mails); to add more to a seeded tenant")
    p.add_argument("--sample", type=int, default=10_000, help="contact ids to write to ids.txt")
    p.add_argument("--terms", type=int, default=2_000, help="search terms to write")
    p.add_argument("--out", default=None, help="output dir (default bench/out)")
    p.add_argument("--timeout", type=float, default=120.0, help="HTTP timeout in seconds")
    p.add_argument("--progress", type=float, default=2.0, help="seconds between progress lines")
    p.add_argument("--dry-run", action="store_true",
                   help="generate the request bodies without sending them; print the rate")
    p.add_argument("--dump", help="with --dry-run: write each batch body as one line here ('-' = stdout)")
    p.add_argument("--validate", action="store_true",
                   help="with --dry-run: parse every body and check fields and e-mail uniqueness")
    p.add_argument("--create-bodies", type=int, default=20_000,
                   help="contact bodies to write to create_bodies.txt")
    p.add_argument("--create-bodies-only", action="store_true",
                   help="write create_bodies.txt to --out and exit (no server)")
    args = p.parse_args(argv)
    if not 1 <= args.batch <= MAX_BATCH:
        p.error(f"--batch must be 1..{MAX_BATCH}")
    if args.threads < 1 or args.contacts < 0 or args.accounts < 0:
        p.error("--threads >= 1, --contacts/--accounts >= 0")

    log_stream = sys.stderr if args.dump == "-" else sys.stdout

    def log(msg):
        print(msg, file=log_stream, flush=True)

    out_dir = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
    write_outputs = not args.dry_run or args.out is not None

    t_gen0 = time.monotonic()
    gen = Generator(args.seed, args.accounts)
    log(f"pools built in {time.monotonic() - t_gen0:.2f}s: "
        f"{sum(len(f) for f, _ in gen.cultures.values())} first names, "
        f"{sum(len(l) for _, l in gen.cultures.values())} last names, "
        f"{len(gen.accounts)} companies")

    def write_create_bodies():
        """Bodies for the create scenario: the contacts that would follow the seeded ones (own RNG
        stream, so the seeded data does not depend on how many are written)."""
        if args.create_bodies <= 0:
            return
        os.makedirs(out_dir, exist_ok=True)
        rng = random.Random(args.seed * 1000 + 3)
        bodies = gen.contacts(args.start_index + args.contacts, args.create_bodies, rng, 1 << 62, [])
        with open(os.path.join(out_dir, "create_bodies.txt"), "w", encoding="utf-8") as f:
            f.write("".join(b + "\n" for b in bodies))
        log(f"wrote {len(bodies)} create bodies to {out_dir}/create_bodies.txt")

    if args.create_bodies_only:
        write_create_bodies()
        return 0

    digest = hashlib.sha256()
    step = max(1, args.contacts // args.sample) if args.sample > 0 else 0
    terms_every = max(1, args.contacts // (args.terms * 2)) if args.terms > 0 else 1 << 62
    term_samples = []
    contact_rng = random.Random(args.seed * 1000 + 2)

    def contact_iter():
        """(index, json) for every contact, generated in chunks of 1000 (same RNG stream)."""
        end = args.start_index + args.contacts
        i = args.start_index
        while i < end:
            n = min(1000, end - i)
            for k, rec in enumerate(gen.contacts(i, n, contact_rng, terms_every, term_samples)):
                yield i + k, rec
            i += n

    def account_iter():
        return enumerate(gen.account_records()[: args.accounts])

    def hashed(batches):
        for b in batches:
            digest.update(b[3])
            yield b

    result = {"seed": args.seed, "contacts": args.contacts, "accounts": args.accounts,
              "batch": args.batch, "threads": args.threads, "start_index": args.start_index}

    if args.dry_run:
        sink = None
        if args.dump == "-":
            sink = sys.stdout.buffer
        elif args.dump:
            sink = open(args.dump, "wb")
        emails = set()
        counts = {"accounts": 0, "contacts": 0, "bytes": 0}
        t0 = time.monotonic()
        for kind, it in (("accounts", account_iter()), ("contacts", contact_iter())):
            for _, _, count, body in hashed(batches_of(it, args.batch)):
                counts[kind] += count
                counts["bytes"] += len(body)
                if sink:
                    sink.write(body + b"\n")
                if args.validate:
                    doc = json.loads(body)
                    recs = doc["create"]
                    assert len(recs) == count
                    for rec in recs:
                        if kind == "accounts":
                            assert rec["name"] and rec["domain"], rec
                            assert rec["industry"] in INDUSTRIES, rec
                            continue
                        assert rec["first_name"] and rec["last_name"], rec
                        stage = rec["lifecycle_stage"]
                        assert stage in dict(LIFECYCLE_STAGES), stage
                        assert isinstance(rec.get("tags", []), list)
                        assert isinstance(rec["do_not_email"], bool)
                        assert len(rec["mailing_country"]) == 2
                        e = rec["email"]
                        assert re.fullmatch(r"[a-z0-9]+\.[a-z0-9]+\.[0-9]+@[a-z0-9.\-]+\.[a-z]+", e), e
                        assert e not in emails, e
                        emails.add(e)
        elapsed = time.monotonic() - t0
        if sink and sink is not sys.stdout.buffer:
            sink.close()
        total = counts["accounts"] + counts["contacts"]
        log(f"dry run: {counts['accounts']:,} accounts + {counts['contacts']:,} contacts, "
            f"{counts['bytes'] / 1e6:.1f} MB of JSON in {elapsed:.2f}s "
            f"({fmt_rate(total, elapsed)}){' [validated]' if args.validate else ''}")
        log(f"sha256 of request bodies: {digest.hexdigest()}")
        result.update(dry_run=True, seconds=round(elapsed, 3), bytes=counts["bytes"],
                      records_per_s=round(total / elapsed) if elapsed else None,
                      sha256=digest.hexdigest())
        if write_outputs:
            os.makedirs(out_dir, exist_ok=True)
            terms = build_search_terms(term_samples, args.terms)
            with open(os.path.join(out_dir, "search_terms.txt"), "w", encoding="utf-8") as f:
                f.write("".join(t + "\n" for t in terms))
            log(f"wrote {len(terms)} search terms to {out_dir}/search_terms.txt")
            write_create_bodies()
        return 0

    key = read_key(args)

    def client_factory():
        return Client(args.url, key, args.timeout)

    sampled = {}  # contact index -> id
    sample_lock = threading.Lock()
    mismatches = [0]

    def on_contact_ids(first, count, ids):
        if len(ids) != count:
            with sample_lock:
                mismatches[0] += 1
            return
        if not step:
            return
        picked = {}
        rel0 = first - args.start_index
        k = (-rel0) % step
        while k < count:
            picked[first + k] = ids[k]
            k += step
        with sample_lock:
            sampled.update(picked)

    total_elapsed = 0.0
    try:
        if args.accounts:
            _, secs = run_phase("accounts", hashed(batches_of(account_iter(), args.batch)),
                                args.accounts, args, client_factory, "/api/v1/accounts/batch",
                                "acc", lambda *a: None, log)
            result["accounts_seconds"] = round(secs, 3)
            total_elapsed += secs
        if args.contacts:
            done, secs = run_phase("contacts", hashed(batches_of(contact_iter(), args.batch)),
                                   args.contacts, args, client_factory, "/api/v1/contacts/batch",
                                   "con", on_contact_ids, log)
            result["contacts_seconds"] = round(secs, 3)
            result["contacts_per_s"] = round(done / secs) if secs else None
            total_elapsed += secs
    except Failure as e:
        log(f"FAILED: {e}")
        return 1

    os.makedirs(out_dir, exist_ok=True)
    ids = [sampled[i] for i in sorted(sampled)][: args.sample]
    with open(os.path.join(out_dir, "ids.txt"), "w", encoding="utf-8") as f:
        f.write("".join(i + "\n" for i in ids))
    terms = build_search_terms(term_samples, args.terms)
    with open(os.path.join(out_dir, "search_terms.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in terms))
    write_create_bodies()
    if mismatches[0]:
        log(f"WARNING: {mismatches[0]} batch responses did not list one 'con_' id per record; "
            "their ids are missing from ids.txt")
    if args.contacts and not ids:
        log("FAILED: no contact ids found in the batch responses; ids.txt is empty")
        return 1
    total = args.accounts + args.contacts
    log(f"seeded {total:,} records in {total_elapsed:.1f}s ({fmt_rate(total, total_elapsed)}); "
        f"wrote {len(ids)} ids and {len(terms)} search terms to {out_dir}")
    result.update(seconds=round(total_elapsed, 3), ids=len(ids), search_terms=len(terms),
                  sha256=digest.hexdigest(), url=args.url)
    with open(os.path.join(out_dir, "seed.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
