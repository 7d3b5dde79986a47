"""Words the generated prompts are drawn from: enough of each kind that a word matches a few
percent of a year's takes, as a real storyboard vocabulary would, and full-text search has to
pick a few dozen newest matches out of thousands.
"""

from __future__ import annotations

import random


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SUBJECTS = _words(
    "lighthouse harbour fisherman trawler ferry gull cliff cottage windmill barn tractor orchard vineyard "
    "cathedral bridge tunnel railway locomotive tram bicycle scooter taxi truck van caravan tent campfire "
    "astronaut rocket satellite observatory telescope robot android drone factory warehouse crane forklift "
    "detective courier chef baker florist tailor violinist drummer dancer skater surfer climber diver "
    "fox owl heron stag badger otter wolf bear horse falcon whale dolphin octopus jellyfish tortoise "
    "kitchen library classroom laboratory greenhouse garage attic cellar rooftop balcony courtyard market "
    "festival parade wedding funeral concert rehearsal interview protest picnic regatta auction"
)
PLACES = _words(
    "desert canyon glacier tundra rainforest savanna marsh delta estuary fjord lagoon reef volcano "
    "meadow prairie moor heath valley plateau ridge summit shoreline dunes boardwalk pier quay "
    "alley boulevard plaza subway station airport terminal stadium arena motel diner laundromat"
)
LIGHT = _words(
    "dawn dusk midnight noon twilight overcast foggy rainy stormy snowy sunlit moonlit neon candlelit "
    "backlit silhouetted hazy golden misty windswept frosty humid"
)
FRAMING = _words(
    "wide establishing medium close-up extreme-close-up macro aerial overhead low-angle dutch-angle "
    "tracking handheld static panoramic"
)
STYLE = _words(
    "watercolour charcoal gouache pastel linocut woodcut etching noir pulp comic isometric blueprint "
    "cinematic documentary vintage polaroid kodachrome technicolor minimalist baroque brutalist"
)
# In no generated prompt except the oldest batch's: a search for it has to reach back a year.
RARE = "zeppelin"


def prompt(rng: random.Random) -> str:
    """A storyboard prompt: framing, a subject or two, a place, light and a style."""
    subjects = rng.sample(SUBJECTS, 2 if rng.random() < 0.4 else 1)
    parts = [
        f"{rng.choice(FRAMING)} shot of a {' and a '.join(subjects)}",
        f"in the {rng.choice(PLACES)}",
        f"at {rng.choice(LIGHT)}",
        f"{rng.choice(STYLE)} style",
    ]
    return ", ".join(parts)
