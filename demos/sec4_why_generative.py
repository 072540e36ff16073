"""Lecture section 4: why generative models? A discriminative model is certain on a noisy digit; p(x) is not.

A logistic regression p(y|x) = softmax(W x + b), trained with autograd_lite, sees only the decision between
classes: on a digit drowned in noise (or on pure noise) it often still answers with p(y|x) > 0.9. A
generative model of p(x, y) = p(x|y) p(y) (a categorical mixture per class on the 17 grey levels) also gives
p(x) = sum_y p(x|y) p(y), and the noisy images get a far lower log p(x) than any real digit: they are flagged.

Figures:
  sec4_why_generative.png   a clean digit, the same digit plus noise, pure noise: p(y|x) and log p(x)
  sec4_ood_scores.png       over the whole test split: max p(y|x) cannot separate them, log p(x) can

Run: python demos/sec4_why_generative.py [--quick]
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from autograd_lite import Tensor, nn, no_grad, optim  # noqa: E402
from autograd_lite.ops import softmax  # noqa: E402
from scratchgen.data import N_PIXEL_VALUES, load_digits  # noqa: E402
from scratchgen.density import CategoricalMixture, GenerativeClassifier  # noqa: E402
from scratchgen.plotting import demo_command_line, save_figure  # noqa: E402

NOISE_STD = 8.0          # grey levels (of 0..16) of Gaussian noise added to a test digit
FLAG_PERCENTILE = 1.0    # flag x when log p(x) is below this percentile of the validation digits


def train_logistic_regression(X: np.ndarray, y: np.ndarray, steps: int = 300, seed: int = 0) -> nn.Linear:
    """Multinomial logistic regression on pixels / 16: minimise the cross-entropy -log softmax(W x + b)_y
    with Adam, full batch."""
    model = nn.Linear(X.shape[1], 10, rng=seed)
    optimiser = optim.Adam(model.parameters(), lr=0.05)
    inputs = Tensor(X / 16.0)
    for _ in range(steps):
        loss = nn.cross_entropy(model(inputs), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model


def discriminative_probabilities(model: nn.Linear, X: np.ndarray) -> np.ndarray:
    """p(y|x) of the logistic regression, shape (n, 10)."""
    with no_grad():
        return softmax(model(Tensor(X / 16.0)), axis=1).numpy()


def add_noise(X: np.ndarray, rng: np.random.Generator, std: float = NOISE_STD) -> np.ndarray:
    """Gaussian noise on every pixel, rounded and clipped back to the grey levels 0..16."""
    return np.clip(np.round(X + std * rng.standard_normal(X.shape)), 0, N_PIXEL_VALUES - 1)


def run_experiment(quick: bool = False) -> dict:
    """Train both models on the digits' train split; score clean, noisy and pure-noise test images."""
    X_train, y_train = load_digits("train")
    X_valid, _ = load_digits("validation")
    X_test, y_test = load_digits("test")
    rng = np.random.default_rng(0)
    discriminative = train_logistic_regression(X_train, y_train, steps=100 if quick else 300)
    generative = GenerativeClassifier(
        CategoricalMixture(3, n_categories=N_PIXEL_VALUES, alpha=0.1, n_init=1 if quick else 3, seed=0)
    ).fit(X_train, y_train)
    threshold = np.percentile(generative.score_samples(X_valid), FLAG_PERCENTILE)
    sets = {"test digits": X_test, f"digits + noise (std {NOISE_STD:g})": add_noise(X_test, rng),
            "pure noise": rng.integers(0, N_PIXEL_VALUES, X_test.shape).astype(np.float64)}
    scores = {}
    for name, X in sets.items():
        p_discriminative = discriminative_probabilities(discriminative, X)
        scores[name] = {
            "images": X,
            "p_y_given_x": p_discriminative,
            "generative_p_y_given_x": generative.predict_proba(X),
            "log_px": generative.score_samples(X),
            "accuracy": float(np.mean(p_discriminative.argmax(axis=1) == y_test)) if name != "pure noise" else None,
        }
    return {"sets": scores, "threshold": threshold, "labels": y_test,
            "generative_accuracy": generative.score(X_test, y_test)}


def figure_example(result: dict, out_dir: str) -> str:
    clean, noisy, noise = result["sets"].values()
    labels = result["labels"]
    # The lecture's case: a noisy image the discriminative model gets wrong, and is sure about.
    wrong_and_sure = np.flatnonzero((noisy["p_y_given_x"].argmax(axis=1) != labels)
                                    & (noisy["p_y_given_x"].max(axis=1) > 0.9))
    i = int(wrong_and_sure[0]) if len(wrong_and_sure) else int(np.argmax(noisy["p_y_given_x"].max(axis=1)))
    j = int(np.argmax(noise["p_y_given_x"].max(axis=1)))
    panels = [(clean, i, f"test digit (a {labels[i]})"), (noisy, i, f"the same {labels[i]} + noise"),
              (noise, j, "pure noise")]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for column, (scored, k, title) in enumerate(panels):
        log_px = scored["log_px"][k]
        flagged = log_px < result["threshold"]
        axes[0, column].imshow(scored["images"][k].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        axes[0, column].set_title(f"{title}\nlog p(x) = {log_px:.0f} nats"
                                  + ("  -> FLAGGED" if flagged else "  (typical)"),
                                  color="tab:red" if flagged else "k")
        axes[0, column].axis("off")
        ax = axes[1, column]
        p = scored["p_y_given_x"][k]
        ax.bar(np.arange(10) - 0.2, p, width=0.4, label="logistic regression p(y|x)")
        ax.bar(np.arange(10) + 0.2, scored["generative_p_y_given_x"][k], width=0.4, alpha=0.6,
               label="generative p(y|x) (Bayes)")
        ax.set_xticks(range(10))
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("class y")
        ax.set_title(f"discriminative: p(y={p.argmax()}|x) = {p.max():.2f}")
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("certain but wrong: p(y|x) alone cannot tell a digit from noise; "
                 f"p(x) can (flag: below the {FLAG_PERCENTILE:g}st percentile of validation digits, "
                 f"{result['threshold']:.0f} nats)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec4_why_generative.png")


def figure_scores(result: dict, out_dir: str) -> str:
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    lowest = min(np.percentile(scored["log_px"], 0.5) for scored in result["sets"].values())
    highest = max(scored["log_px"].max() for scored in result["sets"].values())
    log_px_bins = np.linspace(lowest - 10, highest + 10, 61)
    for name, scored in result["sets"].items():
        confidence = scored["p_y_given_x"].max(axis=1)
        flagged = np.mean(scored["log_px"] < result["threshold"])
        axes[0].hist(confidence, bins=np.linspace(0, 1, 41), alpha=0.5,
                     label=f"{name}: {np.mean(confidence > 0.9):.0%} with max p(y|x) > 0.9")
        axes[1].hist(np.clip(scored["log_px"], log_px_bins[0], None), bins=log_px_bins, alpha=0.5,
                     label=f"{name}: {flagged:.0%} flagged")
    axes[0].set_xlabel("max_y p(y|x), logistic regression")
    axes[0].set_title("the discriminative model's confidence")
    axes[1].axvline(result["threshold"], color="k", ls="--", lw=1, label="flag threshold")
    axes[1].set_xlabel("log p(x) in nats, generative model")
    axes[1].set_title("the generative model's log p(x)")
    for ax in axes:
        ax.set_ylabel("images")
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return save_figure(fig, out_dir, "sec4_ood_scores.png")


def summary(result: dict) -> dict:
    """The measured numbers behind the figures, for the tour's report."""
    numbers = {"generative classifier: test accuracy": float(result["generative_accuracy"]),
               "flag threshold on log p(x) (nats)": float(result["threshold"])}
    for name, scored in result["sets"].items():
        if scored["accuracy"] is not None:
            numbers[f"{name}: logistic regression accuracy"] = scored["accuracy"]
        numbers[f"{name}: share with max p(y|x) > 0.9"] = float(np.mean(scored["p_y_given_x"].max(axis=1) > 0.9))
        numbers[f"{name}: share flagged by log p(x)"] = float(np.mean(scored["log_px"] < result["threshold"]))
    return numbers


def run(out_dir: str = "demo_output", quick: bool = False, full: bool = False) -> tuple[list[str], dict]:
    """The figures and the numbers; ``full`` is the default here (nothing trains for long)."""
    result = run_experiment(quick)
    return [figure_example(result, out_dir), figure_scores(result, out_dir)], summary(result)


def main(out_dir: str = "demo_output", quick: bool = False) -> list[str]:
    return run(out_dir, quick)[0]


if __name__ == "__main__":
    demo_command_line(main, __doc__.splitlines()[0])
