"""OCR misreads of handwriting are put back into words before a page shows them; names and real words stay."""

from __future__ import annotations

import pytest

pytest.importorskip("spellchecker")

from tools.vision._spelling import corrected  # noqa: E402


@pytest.mark.parametrize(("read", "written"), [
    # misreads seen on the shared wireframes (OCR of other people's handwriting)
    ("PESUME", "RESUME"), ("CONTAET", "CONTACT"), ("SEATRCH", "SEARCH"), ("Strecming", "Streaming"),
    ("Pessonal", "Personal"), ("Fucebookl", "Facebook"), ("Rendom Stuff", "Random Stuff"),
    ("ARTICCE TITEE", "ARTICLE TITLE"), ("Foeter", "Footer"), ("Aboutme", "About me"),
])
def test_misreads_become_the_written_words(read: str, written: str) -> None:
    assert corrected(read) == written


@pytest.mark.parametrize("text", ["David Spivey", "Regina Wong", "Kenworthy", "Most Recent Blog", "Featured Post",
                                  "G,1tht", "Week 4", "Proge4", "SIGN UP"])
def test_names_words_and_debris_are_left_as_read(text: str) -> None:
    """A name has no word near it; a known word is kept; a token with digits or symbols is not a word to fix."""
    assert corrected(text) == text


def test_another_languages_word_is_not_made_a_rare_english_one() -> None:
    """A Spanish sketch's 'Entrados' (OCR of 'Entradas') became 'Intrados', an English word nobody uses."""
    assert corrected("Entrados Anteriores") == "Entrados Anteriores"


def test_a_sketch_in_another_language_keeps_its_words() -> None:
    """A Spanish form (a shared sketch) came out as 'Form', 'Media transport', 'past', 'banana', 'Paid': each one
    edit from a Spanish word. Only a sketch whose words are mostly English gets its misreads put back."""
    from tools.vision._spelling import looks_english

    spanish = ["Forma de pago", "Medio transporte", "paso", "Transferencia bancana", "Metálico", "Direccion", "Pais"]
    english = ["TITLE FOR THE SITE", "Short nelcome message", "Rendom Stuff", "Most Recent Blog", "About Me"]
    assert not looks_english(spanish) and looks_english(english)
    assert corrected("Metálico") == "Metálico"  # no word is cut out of a word with an accent


def test_a_badly_read_english_sketch_is_still_english() -> None:
    """A nav on ruled paper read with most words garbled (a shared wireframe, masopie's): under half its words
    are known, but most of the rest are misreads of words web pages say, so its misreads are put back. A Spanish
    sketch read as badly stays as written."""
    from tools.vision._spelling import looks_english

    garbled = ["STe COnTAUT PROyBCTS ABoutmo REsumE", "Home", "BLoy posT 1", "P0ST3", "POST Y", "posts", "sller"]
    spanish = ["K Bisgede", "Nombore", "Resto", "Mos info", "Nombie", "Pesto", "Mas info", "Nombrc", "Resto Mos"]
    assert looks_english(garbled) and not looks_english(spanish)
