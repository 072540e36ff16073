"""Data sets: the 8x8 digits (shipped, with a fixed split), 2-D toy sets, the lecture's 1-D mixture."""
from .digits import IMAGE_SHAPE, N_PIXEL_VALUES, N_TEST, N_TRAIN, N_VALIDATION, load_digits
from .toy import (
    LECTURE_INIT_MEANS,
    LECTURE_INIT_SIGMAS,
    LECTURE_INIT_WEIGHTS,
    LECTURE_MEANS,
    LECTURE_SIGMAS,
    LECTURE_WEIGHTS,
    TOY_SETS,
    checkerboard,
    grid_modes,
    grid_of_gaussians,
    lecture_mixture_1d,
    lecture_mixture_1d_pdf,
    make_toy,
    ring_modes,
    ring_of_gaussians,
    spiral,
    swiss_roll,
    two_moons,
)

__all__ = [
    "IMAGE_SHAPE", "N_PIXEL_VALUES", "N_TEST", "N_TRAIN", "N_VALIDATION", "load_digits",
    "LECTURE_INIT_MEANS", "LECTURE_INIT_SIGMAS", "LECTURE_INIT_WEIGHTS", "LECTURE_MEANS", "LECTURE_SIGMAS",
    "LECTURE_WEIGHTS", "TOY_SETS", "checkerboard", "grid_modes", "grid_of_gaussians", "lecture_mixture_1d",
    "lecture_mixture_1d_pdf", "make_toy", "ring_modes", "ring_of_gaussians", "spiral", "swiss_roll", "two_moons",
]
