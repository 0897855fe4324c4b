"""Text written for a voice: what a narration script may hold so that it can be said and heard back.

A script read from a sketch carries OCR debris (``">"``, ``"000"``, ``"O"``), words of other languages and
symbols. The voice either spells them out or skips them, and the round trip then counts each as an error (a
script of page labels in Spanish came back at WER 0.47 from the English voice). :func:`speakable` keeps what the
voice of the script's language can say: its words, numbers spelled out, sentence punctuation. A page in Spanish is
narrated in Spanish (:data:`FRAMES`, the narrator's own sentences in each language a voice ships for). Pure Python,
cheap to import.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FRAMES", "GENERIC_PAGE_WORDS", "content_words", "fold", "normalize_words", "number_words", "speakable",
           "speakable_word"]

# the narrator's own sentences, per language: {} is where the page's words go
FRAMES: dict[str, dict[str, str]] = {
    "en": {"welcome": "Welcome to {}.", "landing": "Welcome to our new landing page.",
           "picture": "A picture shows what it looks like.", "pictures": "Pictures show what it looks like.",
           "form": "A short form with {} field gets you started.",
           "forms": "A short form with {} fields gets you started.",
           "asks": "The form asks for {}.", "and": "and",
           "choose": "Choose {}.", "or": "or", "go": "Go to {}.", "press": "Press {} to begin.",
           "thanks": "Thanks for watching."},
    "es": {"welcome": "Bienvenido a {}.", "landing": "Bienvenido a nuestra nueva página.",
           "picture": "Una imagen muestra cómo es.", "pictures": "Las imágenes muestran cómo es.",
           "form": "Un formulario corto con {} campo para empezar.",
           "forms": "Un formulario corto con {} campos para empezar.",
           "asks": "El formulario pide {}.", "and": "y",
           "choose": "Elige {}.", "or": "o", "go": "Ve a {}.", "press": "Pulsa {} para empezar.",
           "thanks": "Gracias por mirar."},
    "fr": {"welcome": "Bienvenue sur {}.", "landing": "Bienvenue sur notre nouvelle page.",
           "picture": "Une image montre à quoi elle ressemble.",
           "pictures": "Des images montrent à quoi elle ressemble.",
           "form": "Un court formulaire de {} champ pour commencer.",
           "forms": "Un court formulaire de {} champs pour commencer.",
           "asks": "Le formulaire demande {}.", "and": "et",
           "choose": "Choisissez {}.", "or": "ou", "go": "Allez à {}.", "press": "Appuyez sur {} pour commencer.",
           "thanks": "Merci de votre attention."},
    "de": {"welcome": "Willkommen bei {}.", "landing": "Willkommen auf unserer neuen Seite.",
           "picture": "Ein Bild zeigt, wie sie aussieht.", "pictures": "Bilder zeigen, wie sie aussieht.",
           "form": "Ein kurzes Formular mit {} Feld für den Anfang.",
           "forms": "Ein kurzes Formular mit {} Feldern für den Anfang.",
           "asks": "Das Formular fragt nach {}.", "and": "und",
           "choose": "Wählen Sie {}.", "or": "oder", "go": "Gehen Sie zu {}.",
           "press": "Drücken Sie {}, um zu beginnen.",
           "thanks": "Danke fürs Zuschauen."},
    "it": {"welcome": "Benvenuti su {}.", "landing": "Benvenuti sulla nostra nuova pagina.",
           "picture": "Un'immagine mostra com'è.", "pictures": "Le immagini mostrano com'è.",
           "form": "Un breve modulo con {} campo per iniziare.",
           "forms": "Un breve modulo con {} campi per iniziare.",
           "asks": "Il modulo chiede {}.", "and": "e",
           "choose": "Scegli {}.", "or": "o", "go": "Vai a {}.", "press": "Premi {} per iniziare.",
           "thanks": "Grazie per la visione."},
    "pt": {"welcome": "Bem-vindo a {}.", "landing": "Bem-vindo à nossa nova página.",
           "picture": "Uma imagem mostra como é.", "pictures": "As imagens mostram como é.",
           "form": "Um formulário curto com {} campo para começar.",
           "forms": "Um formulário curto com {} campos para começar.",
           "asks": "O formulário pede {}.", "and": "e",
           "choose": "Escolha {}.", "or": "ou", "go": "Vá para {}.", "press": "Pressione {} para começar.",
           "thanks": "Obrigado por assistir."},
}


def fold(text: str) -> str:
    """``text`` without accents: OCR and recognisers drop or add them ("Direccion", "dirección").

    Example:
        >>> fold("Dirección envío")
        'Direccion envio'
    """
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def number_words(n: int, language: str = "en") -> str:
    """A non-negative integer in words of ``language``, as a voice says it and a recogniser writes it back.

    Example:
        >>> number_words(2024), number_words(15), number_words(125), number_words(5, "es")
        ('two thousand twenty four', 'fifteen', 'one hundred twenty five', 'cinco')
    """
    from num2words import num2words

    # num2words writes "one hundred and twenty-five"; voices say it and whisper writes it without "and" or hyphens
    return num2words(n, lang=language).replace("-", " ").replace(",", "").replace(" and ", " ")


def normalize_words(text: str, language: str = "en") -> list[str]:
    """Lower-case words without punctuation or accents, numbers spelled out in ``language``: what WER compares.
    (OCR drops accents a recogniser writes: "Direccion" and "dirección" are one word.)

    Example:
        >>> normalize_words("It costs $25, OK?")
        ['it', 'costs', 'twenty', 'five', 'ok']
        >>> normalize_words("Dirección: 10 campos", "es")
        ['direccion', 'diez', 'campos']
    """
    text = fold(text).lower().replace("-", " ")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,000 -> 1000
    text = re.sub(r"\d+", lambda m: " " + fold(number_words(int(m.group()), language)) + " "
                  if len(m.group()) < 10 else m.group(), text)
    text = re.sub(r"[^\w\s']", " ", text).replace("'", "")
    return text.split()


_SYMBOLS = {"&": " and ", "%": " percent ", "@": " at ", "+": " plus "}
_NUMBER = re.compile(r"^(?:[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d{0,8}|0)$")
_WORD = re.compile(r"^[A-Za-z]+(?:['’-][A-Za-z]+)*$")
_LETTERS_WORD = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*$")
_VOWEL = re.compile(r"[aeiouy]", re.I)
# a word's capitals start it or its parts ("GitHub", "LinkedIn", "iPhone"); OCR's misreads scatter them
# ("conTALT", "RESUmE", "ABoutmo")
_CASED = re.compile(r"^(?:[a-z]+|[A-Z]+|[a-z]?(?:[A-Z][a-z]+)+)$")
_END = re.compile(r"[.!?]+$")


def _cased(part: str) -> bool:
    """Capitals where a word has them in any alphabet: none, all, the first, or the first of each part."""
    return part.islower() or part.isupper() or bool(_CASED.match(fold(part)))


def speakable_word(token: str, language: str = "en") -> str | None:
    """What the voice says for one token (no spaces), or None when it cannot say it.

    Kept: English-alphabet words with a vowel (``"SIGN-UP"``, ``"don't"``), ``a``/``I``, acronyms of up to three
    capitals (``"FAQ"``), and whole numbers, spelled out. Left out: symbols and debris (``">"``, ``"O"``),
    numbers with a leading zero (``"000"``, a code or a misread), letters mixed with digits, words with letters
    outside the English alphabet (``"Búsqueda"``: the English voice mispronounces them), vowel-less clusters,
    and misreads whose capitals fall mid-word (``"conTALT"``; ``"GitHub"`` is a word).

    Example:
        >>> [speakable_word(t) for t in (">", "000", "O", "25", "Búsqueda", "S3ARCH", "FAQ", "Pricing")]
        [None, None, None, 'twenty five', None, None, 'FAQ', 'Pricing']
        >>> [speakable_word(t) for t in ("conTALT", "RESUmE", "GitHub", "iPhone", "SIGN-UP")]
        [None, None, 'GitHub', 'iPhone', 'sign-up']
    """
    if _NUMBER.match(token):
        return number_words(int(token.replace(",", "")), language)
    if language != "en":
        # another language's voice says its own letters: "Búsqueda" is a word for the Spanish voice
        if not _LETTERS_WORD.match(token) or not all(_cased(p) for p in re.split(r"['’-]", token)):
            return None
        letters = fold(re.sub(r"[\W\d_]", "", token))
        if len(letters) == 1:
            return token if token.islower() else None  # "a", "y", "à": words; a capital alone is a misread
        if not _VOWEL.search(letters):
            return None
        return token.lower() if token.isupper() and len(letters) > 3 else token
    if not _WORD.match(token):
        return None
    letters = re.sub(r"[^A-Za-z]", "", token)
    if len(letters) == 1:
        return token if token in ("a", "A", "I") else None
    if token.isupper() and len(letters) <= 3:
        return token  # an acronym: the voice spells it, the recogniser writes it back
    if not _VOWEL.search(letters) or not all(_CASED.match(part) for part in re.split(r"['’-]", token)):
        return None
    # capitals are a sketch's way of writing a label, not a request to spell it out
    return token.lower() if token.isupper() else token


def speakable(text: str, language: str = "en") -> str:
    """``text`` as an English voice can say it: symbols said or dropped, numbers spelled out, unsayable words
    left out, sentence ends kept. A sentence left with no word (a lone number is a list mark or a misread
    circle, not something to narrate) is dropped whole.

    Example:
        >>> speakable("Welcome to our new landing page. 0. >. SHOP 3 items & 50% off!")
        'Welcome to our new landing page. shop three items and fifty percent off!'
        >>> speakable("Contáctanos > 000.")
        ''
    """
    if language == "en":
        text = re.sub(r"[$€£]([1-9][\d,]*)", lambda m: m.group(1) + {"$": " dollars", "€": " euros",
                                                                     "£": " pounds"}[m.group()[0]], text)
    for symbol, said in _SYMBOLS.items():
        text = text.replace(symbol, said if language == "en" else " ")
    sentences: list[str] = []
    for raw in re.split(r"(?<=[.!?])\s+", text.strip()):
        end = _END.search(raw)
        words: list[str] = []
        said_word = False
        for token in re.sub(r"[.!?]+$", "", raw).split():
            clause = token[-1] if token[-1] in ",;:" else ""
            word = speakable_word(token.strip("\"'()[]{}<>«»“”‘’,;:*_#~|/\\=^`¿¡"), language)
            if word is not None:
                words.append(word + clause)
                said_word = said_word or not _NUMBER.match(token.strip(",;:"))
        if said_word:
            words[-1] = words[-1].rstrip(",;:")
            sentences.append(" ".join(words) + (end.group()[0] if end else "."))
    return " ".join(sentences)


# words any page or narration about one may say: naming them shows nothing about this page
GENERIC_PAGE_WORDS = {"page", "pages", "website", "site", "web", "landing", "welcome", "section", "sections",
                      "this", "that", "here", "there", "with", "your", "our", "their", "have", "will", "from",
                      "about", "more", "then", "what", "which", "video", "tour", "take", "look", "below", "above",
                      "and", "the", "for", "are", "you", "its", "into", "onto", "each", "every", "also", "just",
                      # the narrator's own frame for any page ("Pictures show what it looks like", "A short form
                      # with two fields gets you started", "Press ... to begin", "Thanks for watching")
                      "picture", "pictures", "show", "shows", "looks", "like", "short", "form", "field", "fields",
                      "gets", "started", "press", "begin", "thanks", "watching"}
# and its frame in the other languages it narrates in
GENERIC_PAGE_WORDS |= {w for frames in FRAMES.values() for line in frames.values()
                       for w in re.findall(r"[a-z]+", fold(line).lower())}


def content_words(text: str) -> set[str]:
    """The words of ``text`` that say something about one page: four letters or more, not a number, not a word
    any page or narration says (:data:`GENERIC_PAGE_WORDS`), lowercased.

    Example:
        >>> sorted(content_words("Welcome to Green Valley Farm! Press Get started to begin."))
        ['farm', 'green', 'valley']
    """
    words = re.findall(r"[a-z0-9]+", fold(text).lower())
    return {w for w in words if len(w) >= 4 and w not in GENERIC_PAGE_WORDS and not w.isdigit()}
