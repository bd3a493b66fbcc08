"""Plausible French names, places and phone numbers, combined from short lists (no Faker)."""

from __future__ import annotations

import random

from portal.services.codes import UNAMBIGUOUS_ALPHABET

FIRST_NAMES_F = (
    "Martine", "Monique", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Nadia",
    "Fatima", "Sandrine", "Céline", "Aurélie", "Émilie", "Julie", "Camille", "Léa", "Chloé",
    "Inès", "Manon", "Yvette", "Chantal", "Josiane", "Brigitte", "Sophie", "Amandine", "Hélène",
    "Samira", "Zoé", "Océane", "Maëlys",
)
FIRST_NAMES_M = (
    "Jean-Pierre", "Bernard", "Patrick", "Michel", "Philippe", "Christophe", "Sébastien",
    "Laurent", "Rachid", "Kévin", "Dylan", "Lucas", "Hugo", "Thomas", "Nicolas", "Julien",
    "Mohamed", "Karim", "Gérard", "Daniel", "Alain", "Franck", "Jérôme", "Maxime", "Théo",
    "Enzo", "Yannick", "Didier", "Joël", "François",
)
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont",
    "Lambert", "Bonnet", "François", "Martinez", "Delannoy", "Duhamel", "Caron", "Dufour",
    "Benali", "Wattel", "Haddad", "Dumont", "Potier", "Carpentier", "Mansouri", "Lecomte",
    "Lefort", "Boulanger", "Delcourt", "Fontaine", "Vandamme", "Delattre", "Lemaire",
    "Vasseur", "Delcroix", "Descamps", "Deprez", "Duquesne", "Hennebelle", "Lemoine",
    "Cuvelier", "Wallart", "Bouchart", "Desmet",
)
#: communes of a department (Pas-de-Calais) with their postcodes.
COMMUNES = (
    ("Arras", "62000"), ("Lens", "62300"), ("Liévin", "62800"), ("Béthune", "62400"),
    ("Calais", "62100"), ("Boulogne-sur-Mer", "62200"), ("Hénin-Beaumont", "62110"),
    ("Bruay-la-Buissière", "62700"), ("Saint-Omer", "62500"), ("Avion", "62210"),
    ("Méricourt", "62680"), ("Carvin", "62220"), ("Harnes", "62440"), ("Noeux-les-Mines", "62290"),
    ("Berck", "62600"), ("Outreau", "62230"), ("Sallaumines", "62430"), ("Rouvroy", "62320"),
    ("Billy-Montigny", "62420"), ("Bully-les-Mines", "62160"), ("Auchel", "62260"),
    ("Marck", "62730"), ("Montreuil", "62170"), ("Saint-Pol-sur-Ternoise", "62130"),
    ("Étaples", "62630"), ("Aire-sur-la-Lys", "62120"), ("Oignies", "62590"),
    ("Courrières", "62710"), ("Wingles", "62410"), ("Isbergues", "62330"),
)
STREETS = (
    "rue Jean Jaurès", "rue Victor Hugo", "place de la Mairie", "rue Pasteur",
    "avenue de la République", "rue Émile Zola", "rue du 8 Mai 1945", "rue Henri Darras",
    "boulevard Basly", "rue de la Gare",
)
SITE_KINDS = ("Cyberbase", "Espace public numérique", "Médiathèque", "France Services",
              "Centre social")


def first_name(rng: random.Random, female: bool) -> str:
    return rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)


def last_name(rng: random.Random) -> str:
    return rng.choice(LAST_NAMES)


def mobile(rng: random.Random) -> str:
    """A mobile number in the range reserved for fiction (06 39 98 xx xx)."""
    return f"06 39 98 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"


def landline(n: int) -> str:
    """A fixed-line number in the range reserved for fiction (03 53 01 xx xx)."""
    return f"03 53 01 {n // 100 % 100:02d} {n % 100:02d}"


def site_code(n: int) -> str:
    """``BA``, ``BB``… ``BAZ``: upper-case letters only, unique for n < 676."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "B" + letters[n // 26 % 26] + letters[n % 26]


# Codes read and typed by people: unique by construction (an affine permutation of the integers
# written in the unambiguous alphabet), so no lookup is needed to avoid a collision.
_BASE = len(UNAMBIGUOUS_ALPHABET)


def unique_code(n: int, length: int, salt: int) -> str:
    """The ``n``-th code of ``length`` symbols: distinct ``n`` give distinct codes."""
    space = _BASE**length
    value = (n * 7_919_003 + salt) % space  # 7 919 003 is prime, coprime with 30
    symbols = []
    for _ in range(length):
        value, digit = divmod(value, _BASE)
        symbols.append(UNAMBIGUOUS_ALPHABET[digit])
    return "".join(symbols)
