"""The template's own words, in each language a page can be written in (those the narrator speaks:
:data:`tools._speech.FRAMES`). A Spanish sketch gets Spanish filler, not "Get started" and "Name / Email".

Each list is taken in turn by the slots of its kind, so lists may differ in length between languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["STOCK", "STOCK_PHRASES", "Stock", "is_stock", "stock_for"]


@dataclass(frozen=True)
class Stock:
    """The filler of one language. ``made_simple``, ``topic_subhead`` and ``signature`` take ``{topic}`` or
    ``{brand}``."""

    features: tuple[tuple[str, str], ...]
    body: tuple[str, ...]
    section_titles: tuple[str, ...]
    ctas: tuple[str, ...]
    nav: tuple[str, ...]
    fields: tuple[str, ...]
    options: tuple[str, ...]
    footer: tuple[str, ...]
    captions: tuple[str, ...]
    notes: tuple[str, ...]  # a few words for a small label outside a form (a tag, a date line)
    headline: str
    subhead: str
    short_headline: str
    made_simple: str
    topic_subhead: str
    signature: str
    studio: str


STOCK: dict[str, Stock] = {
    "en": Stock(
        features=(("Fast to start", "Set up in minutes and see results on the first day."),
                  ("Simple by design", "A clean interface that gets out of your way."),
                  ("Safe and secure", "Your data stays private and protected at every step."),
                  ("Works everywhere", "On your phone, your tablet and your desktop."),
                  ("Friendly support", "Real people ready to help whenever you need them."),
                  ("Always improving", "New features every month, shaped by what you ask for.")),
        body=("Everything you need comes together in one place.", "Start small and grow at your own pace.",
              "Clear steps guide you from the first idea to the finished result.",
              "Thousands of people already use it every day.", "Try it today and see the difference for yourself."),
        section_titles=("How it works", "Why people choose us", "What people say", "Built for the way you work",
                        "Everything in one place", "Plans for every team", "Questions and answers", "Get in touch",
                        "Made with care", "Stories from our users", "What comes next", "Join the community"),
        ctas=("Get started", "Learn more", "Sign up", "Contact us", "Try it free"),
        nav=("Home", "Features", "Pricing", "About", "Contact", "Blog"),
        fields=("Name", "Email", "Message", "Phone", "Company", "Subject"),
        options=("Keep me posted", "I agree to the terms", "Send me a copy", "Remember me"),
        footer=("Privacy", "Terms", "Contact", "Careers"),
        captions=("Product photo", "Screenshot", "Illustration", "Team photo", "Gallery image"),
        notes=("New", "Featured", "Popular", "Latest", "This week", "Top pick"),
        headline="Build something people love",
        subhead="A clear, simple way to get started today. No clutter, no fuss.",
        short_headline="Start here",
        made_simple="{topic}, made simple",
        topic_subhead="Everything you want from {topic}, in one clear place. Start today.",
        signature="© {brand}. Made with care.",
        studio="Studio"),
    "es": Stock(
        features=(("Empieza rápido", "Todo listo en minutos y resultados desde el primer día."),
                  ("Sencillo", "Una interfaz clara que no se interpone."),
                  ("Seguro", "Tus datos siguen privados y protegidos en cada paso."),
                  ("En todas partes", "En tu móvil, tu tableta y tu ordenador."),
                  ("Ayuda cercana", "Personas reales listas para ayudarte cuando lo necesites."),
                  ("Siempre mejor", "Novedades cada mes, según lo que nos pides.")),
        body=("Todo lo que necesitas, reunido en un solo lugar.", "Empieza poco a poco y crece a tu ritmo.",
              "Pasos claros te llevan de la primera idea al resultado final.",
              "Miles de personas ya lo usan cada día.", "Pruébalo hoy y nota la diferencia."),
        section_titles=("Cómo funciona", "Por qué nos eligen", "Lo que dicen", "Hecho a tu medida",
                        "Todo en un lugar", "Planes para cada equipo", "Preguntas frecuentes", "Contacto",
                        "Hecho con cuidado", "Historias de clientes", "Lo que viene", "Únete a la comunidad"),
        ctas=("Empezar", "Saber más", "Registrarse", "Contactar", "Pruébalo gratis"),
        nav=("Inicio", "Servicios", "Precios", "Nosotros", "Contacto", "Blog"),
        fields=("Nombre", "Correo", "Mensaje", "Teléfono", "Empresa", "Asunto"),
        options=("Quiero novedades", "Acepto las condiciones", "Enviarme una copia", "Recordarme"),
        footer=("Privacidad", "Condiciones", "Contacto", "Empleo"),
        captions=("Foto del producto", "Captura", "Ilustración", "Foto del equipo", "Galería"),
        notes=("Nuevo", "Destacado", "Popular", "Lo último", "Esta semana"),
        headline="Crea algo que guste",
        subhead="Una forma clara y sencilla de empezar hoy. Sin complicaciones.",
        short_headline="Empieza aquí",
        made_simple="{topic}, fácil",
        topic_subhead="Todo lo que buscas de {topic}, en un solo lugar. Empieza hoy.",
        signature="© {brand}. Hecho con cuidado.",
        studio="Estudio"),
    "fr": Stock(
        features=(("Prêt en minutes", "Tout est en place en quelques minutes, dès le premier jour."),
                  ("Simple", "Une interface claire qui ne gêne pas."),
                  ("Sûr", "Vos données restent privées et protégées."),
                  ("Partout", "Sur votre téléphone, votre tablette et votre ordinateur."),
                  ("Aide humaine", "De vraies personnes prêtes à vous aider."),
                  ("Toujours mieux", "Des nouveautés chaque mois, selon vos demandes.")),
        body=("Tout ce qu'il vous faut, réuni au même endroit.", "Commencez petit et grandissez à votre rythme.",
              "Des étapes claires, de la première idée au résultat final.",
              "Des milliers de personnes l'utilisent chaque jour.", "Essayez dès aujourd'hui."),
        section_titles=("Comment ça marche", "Pourquoi nous choisir", "Ils en parlent", "Pensé pour vous",
                        "Tout au même endroit", "Des offres pour chaque équipe", "Questions fréquentes",
                        "Nous contacter", "Fait avec soin", "Témoignages", "La suite", "Rejoignez-nous"),
        ctas=("Commencer", "En savoir plus", "S'inscrire", "Nous écrire", "Essai gratuit"),
        nav=("Accueil", "Services", "Tarifs", "À propos", "Contact", "Blog"),
        fields=("Nom", "E-mail", "Message", "Téléphone", "Société", "Objet"),
        options=("Me tenir informé", "J'accepte les conditions", "M'envoyer une copie", "Se souvenir de moi"),
        footer=("Confidentialité", "Conditions", "Contact", "Emplois"),
        captions=("Photo du produit", "Capture d'écran", "Illustration", "Photo de l'équipe", "Galerie"),
        notes=("Nouveau", "À la une", "Populaire", "Récent", "Cette semaine"),
        headline="Créez ce qui plaît",
        subhead="Une façon simple et claire de commencer aujourd'hui.",
        short_headline="Commencez ici",
        made_simple="{topic}, tout simplement",
        topic_subhead="Tout ce que vous attendez de {topic}, au même endroit. Commencez aujourd'hui.",
        signature="© {brand}. Fait avec soin.",
        studio="Studio"),
    "de": Stock(
        features=(("Schnell startklar", "In Minuten eingerichtet, Ergebnisse am ersten Tag."),
                  ("Einfach", "Eine klare Oberfläche, die nicht im Weg steht."),
                  ("Sicher", "Ihre Daten bleiben privat und geschützt."),
                  ("Überall", "Auf Telefon, Tablet und Computer."),
                  ("Echte Hilfe", "Echte Menschen, die Ihnen helfen."),
                  ("Immer besser", "Jeden Monat Neues, nach Ihren Wünschen.")),
        body=("Alles, was Sie brauchen, an einem Ort.", "Klein anfangen und im eigenen Tempo wachsen.",
              "Klare Schritte von der ersten Idee bis zum Ergebnis.",
              "Tausende nutzen es schon jeden Tag.", "Probieren Sie es heute aus."),
        section_titles=("So funktioniert es", "Warum wir", "Das sagen Kunden", "Für Ihre Arbeit gemacht",
                        "Alles an einem Ort", "Tarife für jedes Team", "Fragen und Antworten", "Kontakt",
                        "Mit Sorgfalt gemacht", "Geschichten unserer Kunden", "Was kommt", "Machen Sie mit"),
        ctas=("Loslegen", "Mehr erfahren", "Anmelden", "Kontakt", "Gratis testen"),
        nav=("Start", "Funktionen", "Preise", "Über uns", "Kontakt", "Blog"),
        fields=("Name", "E-Mail", "Nachricht", "Telefon", "Firma", "Betreff"),
        options=("Auf dem Laufenden halten", "Ich stimme den Bedingungen zu", "Kopie an mich",
                 "Angemeldet bleiben"),
        footer=("Datenschutz", "Impressum", "Kontakt", "Jobs"),
        captions=("Produktfoto", "Bildschirmfoto", "Illustration", "Teamfoto", "Galerie"),
        notes=("Neu", "Empfohlen", "Beliebt", "Aktuell", "Diese Woche"),
        headline="Etwas, das begeistert",
        subhead="Ein klarer, einfacher Weg, heute zu starten.",
        short_headline="Hier starten",
        made_simple="{topic}, ganz einfach",
        topic_subhead="Alles rund um {topic}, an einem Ort. Starten Sie heute.",
        signature="© {brand}. Mit Sorgfalt gemacht.",
        studio="Studio"),
    "it": Stock(
        features=(("Pronto in pochi minuti", "Tutto pronto in pochi minuti, risultati dal primo giorno."),
                  ("Semplice", "Un'interfaccia chiara che non ti ostacola."),
                  ("Sicuro", "I tuoi dati restano privati e protetti."),
                  ("Ovunque", "Sul telefono, sul tablet e sul computer."),
                  ("Assistenza vera", "Persone vere pronte ad aiutarti."),
                  ("Sempre meglio", "Novità ogni mese, secondo le vostre richieste.")),
        body=("Tutto ciò che ti serve, in un unico posto.", "Inizia in piccolo e cresci con calma.",
              "Passi chiari dalla prima idea al risultato finale.",
              "Migliaia di persone lo usano ogni giorno.", "Provalo oggi e vedi la differenza."),
        section_titles=("Come funziona", "Perché sceglierci", "Cosa dicono", "Pensato per te",
                        "Tutto in un posto", "Piani per ogni team", "Domande frequenti", "Contatti",
                        "Fatto con cura", "Storie dei clienti", "Cosa arriva", "Unisciti a noi"),
        ctas=("Inizia", "Scopri di più", "Iscriviti", "Contattaci", "Prova gratis"),
        nav=("Home", "Servizi", "Prezzi", "Chi siamo", "Contatti", "Blog"),
        fields=("Nome", "Email", "Messaggio", "Telefono", "Azienda", "Oggetto"),
        options=("Tienimi aggiornato", "Accetto i termini", "Inviami una copia", "Ricordami"),
        footer=("Privacy", "Termini", "Contatti", "Lavora con noi"),
        captions=("Foto del prodotto", "Schermata", "Illustrazione", "Foto del team", "Galleria"),
        notes=("Nuovo", "In evidenza", "Popolare", "Ultime", "Questa settimana"),
        headline="Crea qualcosa che piace",
        subhead="Un modo chiaro e semplice per iniziare oggi.",
        short_headline="Inizia qui",
        made_simple="{topic}, semplice",
        topic_subhead="Tutto ciò che cerchi da {topic}, in un unico posto. Inizia oggi.",
        signature="© {brand}. Fatto con cura.",
        studio="Studio"),
    "pt": Stock(
        features=(("Começo rápido", "Tudo pronto em minutos, resultados no primeiro dia."),
                  ("Simples", "Uma interface clara que não atrapalha."),
                  ("Seguro", "Seus dados ficam privados e protegidos."),
                  ("Em todo lugar", "No celular, no tablet e no computador."),
                  ("Ajuda de verdade", "Pessoas reais prontas para ajudar."),
                  ("Sempre melhor", "Novidades todo mês, do jeito que você pede.")),
        body=("Tudo o que você precisa, num só lugar.", "Comece pequeno e cresça no seu ritmo.",
              "Passos claros da primeira ideia ao resultado final.",
              "Milhares de pessoas já usam todos os dias.", "Experimente hoje e veja a diferença."),
        section_titles=("Como funciona", "Por que nos escolher", "O que dizem", "Feito para você",
                        "Tudo num só lugar", "Planos para cada equipe", "Perguntas frequentes", "Contato",
                        "Feito com cuidado", "Histórias de clientes", "O que vem aí", "Junte-se a nós"),
        ctas=("Começar", "Saiba mais", "Cadastrar", "Fale conosco", "Teste grátis"),
        nav=("Início", "Serviços", "Preços", "Sobre", "Contato", "Blog"),
        fields=("Nome", "E-mail", "Mensagem", "Telefone", "Empresa", "Assunto"),
        options=("Quero novidades", "Aceito os termos", "Enviar uma cópia", "Lembrar de mim"),
        footer=("Privacidade", "Termos", "Contato", "Carreiras"),
        captions=("Foto do produto", "Captura de tela", "Ilustração", "Foto da equipe", "Galeria"),
        notes=("Novo", "Destaque", "Popular", "Recente", "Esta semana"),
        headline="Crie algo que encante",
        subhead="Um jeito claro e simples de começar hoje.",
        short_headline="Comece aqui",
        made_simple="{topic}, simples",
        topic_subhead="Tudo o que você quer de {topic}, num só lugar. Comece hoje.",
        signature="© {brand}. Feito com cuidado.",
        studio="Estúdio"),
}


def stock_for(language: str) -> Stock:
    """The filler of ``language``; English for a language it has none of."""
    return STOCK.get(language, STOCK["en"])


def _phrases(stock: Stock) -> list[str]:
    return [*stock.body, *stock.section_titles, *stock.ctas, *stock.nav, *stock.fields, *stock.options,
            *stock.footer, *stock.captions, *stock.notes, *(t for pair in stock.features for t in pair),
            stock.headline, stock.subhead, stock.short_headline]


STOCK_PHRASES = frozenset(p.lower() for stock in STOCK.values() for p in _phrases(stock))
"""The template's own words, in every language: a page's text that is one of them was written here, not read from
the sketch, and says nothing of the language the sketch is in."""


def is_stock(text: str) -> bool:
    """Whether ``text`` is the template's own: one of its phrases, or sentences of its filler run together.

    Example:
        >>> is_stock("Start small and grow at your own pace. Try it today and see the difference for yourself.")
        True
        >>> is_stock("Medio de transporte")
        False
    """
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip().lower()) if s]
    return bool(sentences) and all(s in STOCK_PHRASES for s in sentences)
