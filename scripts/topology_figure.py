"""Draw the multi-host test topology (tests/clusters/test_multihost.py) as a PNG.

The names, addresses and racks come from the same code that builds the network
(`hopsfs_tools.cluster.netns.Network`), for the first subnet a cluster takes. Needs matplotlib
(extra `[notebooks]`). Usage:

    python scripts/topology_figure.py [--hosts 4] [--racks 2] [--link 1gbit] [--clients 1]
        [--output docs/multihost-topology.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from hopsfs_tools.cluster.netns import Network

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "multihost-topology.png"


def box(ax, x: float, y: float, w: float, h: float, text: str, color: str, **style) -> None:
    """A rounded box with centred text (axes coordinates: 0..100 both ways)."""
    ax.add_patch(
        FancyBboxPatch(
            (x, y), w, h, boxstyle="round,pad=0.4,rounding_size=1.2", fc=color, ec="#333", **style
        )
    )
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=8)


def draw(network: Network, output: Path) -> None:
    """The root namespace (NameNode, bridge, clients) above the hosts grouped in racks."""
    fig = Figure(figsize=(12.5, 6.2), dpi=110)  # no pyplot: no GUI backend, no global state
    ax = fig.add_subplot()
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.axis("off")
    box(ax, 1, 62, 98, 36, "", "#f4f6fb", ls="--")
    ax.text(2.5, 95, "root network namespace (the machine)", fontsize=9, style="italic")
    box(ax, 6, 77, 26, 12, f"NameNode\nnamenode.{network.domain}\n{network.gateway}", "#ffd9a8")
    box(
        ax,
        68,
        77,
        26,
        12,
        "clients, tests, benchmarks\n(or in a host: `cluster exec HOST`)",
        "#dff0d8",
    )
    box(ax, 6, 66, 88, 4, f"bridge {network.bridge}  {network.gateway}/24", "#cfe2f3")
    for x in (19, 81):  # the NameNode and root-namespace clients talk through the bridge
        ax.plot([x, x], [70.4, 76.6], color="#555", lw=1.5)
    ax.text(50, 83, "the NameNode runs conf/topology.sh:\nhost -> rack", ha="center", fontsize=8)
    ax.text(50, 73, "hosts block in /etc/hosts and <cluster dir>/hosts", ha="center", fontsize=8)
    width = 92 / len(network.numbers)
    groups: list[list[int]] = []  # neighbouring hosts of one rack and kind share a rack box
    for k in network.numbers:
        last = groups[-1][-1] if groups else None
        if last and network.rack(last) == network.rack(k) and k <= network.hosts:
            groups[-1].append(k)
        else:
            groups.append([k])
    for members in groups:
        left = 4 + (members[0] - 1) * width
        box(ax, left, 3, width * len(members) - 2, 45, "", "#fafafa", ls=":")
        ax.text(left + 1, 44, network.rack(members[0]), fontsize=9, weight="bold")
    for k in network.numbers:
        left = 4 + (k - 1) * width + 1.5
        centre = left + (width - 5) / 2
        ax.plot([centre, centre], [66, 36], color="#555", lw=1.5)
        link = f"tbf {network.link}" if network.link else "unshaped"
        ax.text(centre + 0.8, 52, f"veth hopsfs{network.index}h{k}\n↔ eth0, {link}", fontsize=7.5)
        box(
            ax,
            left,
            7,
            width - 5,
            28,
            f"{network.host_names[k - 1]}\n{network.host_address(k)}\n"
            f"netns {network.namespace(k)}\n\n"
            + (f"DataNode datanode-{k}" if k <= network.hosts else "client host\n(no DataNode)"),
            "#e8dff5" if k <= network.hosts else "#dff0d8",
        )
    ax.set_title(
        f"Multi-host cluster on one machine: LocalCluster(hosts={network.hosts}, "
        f"racks={network.racks}, link={network.link!r}, clients={network.clients})",
        fontsize=10,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, bbox_inches="tight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--racks", type=int, default=2)
    parser.add_argument("--link", default="1gbit")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    draw(Network("", 1, args.hosts, args.racks, args.link, args.clients), args.output)
    print(args.output)


if __name__ == "__main__":
    main()
