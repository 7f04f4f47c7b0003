// What each builder image has on its PATH, as its Dockerfile builds it, for the build
// runner (cloudbuild.ts): a step runs with these programs only, so a step that names a
// program its image lacks fails here as it fails in Cloud Build. Each image lists the
// programs the generated steps, their scripts and gcloud's own wrapper may call, with the
// file and line that put them there. An image or tag missing here is refused: add it, with
// its source, rather than let the runner guess.
//
// Sources (read at these commits):
//   D  debuerreotype/docker-debian-artifacts f5527c9b (dist-amd64, 2024-12-02), trixie/slim/rootfs.manifest,
//      the package list of debian:trixie-slim. The programs of each package are those of its
//      Debian file list (dpkg -L on Debian 12 gives the same programs for these packages).
//   G  GoogleCloudPlatform/cloud-sdk-docker 47328f70 (2026-07-22): stable/Dockerfile,
//      debian_slim/Dockerfile, Dockerfile (the full image); cloudbuild.yaml tags each release
//      VERSION-slim (step multi_arch_debian_slim, line 39), VERSION-stable (line 55) and VERSION (line 59).
//   P  docker-library/python 4f070595 (2026-06-23): versions.json, X.Y/slim-trixie/Dockerfile;
//      generate-stackbrew-library.sh (lines 84-126) tags X.Y.Z-slim-trixie, X.Y-slim-trixie,
//      X.Y.Z-slim and X.Y-slim.
//   C  the google-cloud-cli Debian package's file list (dpkg -L google-cloud-cli, 528.0.0):
//      /usr/lib/google-cloud-sdk/bin/{gcloud,gsutil,bq,gcloud-crc32c,docker-credential-gcloud,
//      git-credential-gcloud.sh}, the same names in /usr/bin, and a bundled Python under
//      platform/bundledpythonunix that gcloud's wrapper picks on x86_64.
// Cloud Build's default workers are x86_64: the tables are x86_64's.

export interface ImageContents {
  /** The image reference, as a step's `name:` gives it. */
  image: string;
  /** Programs on the image's PATH that a step may call. */
  programs: ReadonlySet<string>;
  /** Where each part comes from: file and line. */
  sources: readonly string[];
}

interface Layer {
  programs: readonly string[];
  source: string;
}

/** debian:trixie-slim, the base of every image here. No curl, wget, git or Python (D: absent from the list). */
const DEBIAN_TRIXIE_SLIM: Layer[] = [
  { source: 'D line 4: bash', programs: ['bash'] },
  { source: 'D line 7: dash, which is /bin/sh', programs: ['sh', 'dash'] },
  {
    source: 'D line 6: coreutils',
    programs: [
      '[', 'arch', 'b2sum', 'base32', 'base64', 'basename', 'basenc', 'cat', 'chcon', 'chgrp', 'chmod', 'chown', 'chroot',
      'cksum', 'comm', 'cp', 'csplit', 'cut', 'date', 'dd', 'df', 'dir', 'dircolors', 'dirname', 'du', 'echo', 'env',
      'expand', 'expr', 'factor', 'false', 'fmt', 'fold', 'groups', 'head', 'hostid', 'id', 'install', 'join', 'link', 'ln',
      'logname', 'ls', 'md5sum', 'mkdir', 'mkfifo', 'mknod', 'mktemp', 'mv', 'nice', 'nl', 'nohup', 'nproc', 'numfmt', 'od',
      'paste', 'pathchk', 'pinky', 'pr', 'printenv', 'printf', 'ptx', 'pwd', 'readlink', 'realpath', 'rm', 'rmdir', 'runcon',
      'seq', 'sha1sum', 'sha224sum', 'sha256sum', 'sha384sum', 'sha512sum', 'shred', 'shuf', 'sleep', 'sort', 'split',
      'stat', 'stdbuf', 'stty', 'sum', 'sync', 'tac', 'tail', 'tee', 'test', 'timeout', 'touch', 'tr', 'true', 'truncate',
      'tsort', 'tty', 'uname', 'unexpand', 'uniq', 'unlink', 'users', 'vdir', 'wc', 'who', 'whoami', 'yes',
    ],
  },
  { source: 'D line 10: debianutils', programs: ['which', 'run-parts', 'tempfile', 'savelog', 'ischroot'] },
  { source: 'D line 11: diffutils', programs: ['cmp', 'diff', 'diff3', 'sdiff'] },
  { source: 'D line 14: findutils', programs: ['find', 'xargs'] },
  { source: 'D line 17: grep', programs: ['grep', 'egrep', 'fgrep'] },
  { source: 'D line 18: gzip', programs: ['gzip', 'gunzip', 'zcat'] },
  { source: 'D line 19: hostname', programs: ['hostname'] },
  { source: 'D line 77: mawk, which is awk', programs: ['awk', 'mawk'] },
  { source: 'D line 83: perl-base', programs: ['perl'] },
  { source: 'D line 84: sed', programs: ['sed'] },
  { source: 'D line 86: tar', programs: ['tar'] },
  { source: 'D line 89: util-linux', programs: ['getopt', 'flock', 'setsid', 'more'] },
  { source: 'D lines 1, 12: apt, dpkg', programs: ['apt', 'apt-get', 'dpkg'] },
];

/** The Cloud SDK's own programs (C), and the lines of the Dockerfile that run them in the image. */
const CLOUD_SDK = (dockerfileLines: string): Layer => ({
  source: `C; ${dockerfileLines}`,
  programs: ['gcloud', 'gsutil', 'bq', 'gcloud-crc32c', 'docker-credential-gcloud', 'git-credential-gcloud.sh'],
});

/** What debian_slim/Dockerfile and the full Dockerfile install with apt besides the SDK. */
const DEBIAN_PYTHON3 = (where: string): Layer => ({
  source: `${where}: python3-dev and python3-pip of Debian trixie (Python 3.13; no unversioned python)`,
  programs: ['python3', 'python3.13', 'python3-config', 'pip', 'pip3', 'pip3.13', 'pydoc3', 'pdb3'],
});

const GCLOUD = 'gcr.io/google.com/cloudsdktool/google-cloud-cli';

/**
 * The gcloud releases whose versioned images are in the table. 594.0.0: Google Cloud CLI release
 * notes, "594.0.0 (2026-11-17)"; its tags follow from G cloudbuild.yaml, not from a registry listing.
 */
export const GCLOUD_VERSIONS = ['594.0.0'] as const;

const GCLOUD_STABLE: Layer[] = [
  ...DEBIAN_TRIXIE_SLIM,
  CLOUD_SDK('G stable/Dockerfile line 23 copies /usr/lib/google-cloud-sdk, line 25 puts its bin/ on PATH, lines 36-40 run gcloud, gsutil, bq, gcloud-crc32c'),
  // Line 22 starts the runtime from a fresh debian:trixie-slim: line 9's curl stays in the build stage.
  { source: 'G stable/Dockerfile line 46: the entrypoint script in /usr/local/bin', programs: ['entrypoint.sh'] },
  // Lines 29-32: python3 only where `uname -m` is not x86_64, so none on Cloud Build's workers.
];

const GCLOUD_SLIM: Layer[] = [
  ...DEBIAN_TRIXIE_SLIM,
  CLOUD_SDK('G debian_slim/Dockerfile line 23 installs google-cloud-cli, lines 27-31 run gcloud, python3, gsutil, bq, gcloud-crc32c'),
  DEBIAN_PYTHON3('G debian_slim/Dockerfile lines 11, 13'),
  { source: 'G debian_slim/Dockerfile lines 9-18: curl, gcc, lsb-release, openssh-client, git, gnupg', programs: ['curl', 'gcc', 'cc', 'lsb_release', 'ssh', 'scp', 'ssh-keygen', 'git', 'gpg'] },
];

const GCLOUD_FULL: Layer[] = [
  ...DEBIAN_TRIXIE_SLIM,
  CLOUD_SDK('G Dockerfile line 23 installs google-cloud-cli, lines 41-42 run gcloud and python3'),
  DEBIAN_PYTHON3('G Dockerfile lines 9, 16'),
  { source: 'G Dockerfile lines 8-17: curl, lsb-release, openssh-client, git, gcc, gnupg', programs: ['curl', 'gcc', 'cc', 'lsb_release', 'ssh', 'scp', 'ssh-keygen', 'git', 'gpg'] },
  { source: 'G Dockerfile lines 32-36: cbt, kpt, gke-gcloud-auth-plugin, kubectl', programs: ['cbt', 'kpt', 'gke-gcloud-auth-plugin', 'kubectl'] },
];

/** Python's images: each minor with the patch versions.json names (P), and its Dockerfile's lines. */
const PYTHONS: { minor: string; patch: string; versionsLine: number; lines: { ensurepip: number; install: number; links: number; purge: number; wheel?: number } }[] = [
  { minor: '3.10', patch: '3.10.20', versionsLine: 19, lines: { ensurepip: 79, install: 97, links: 140, purge: 122, wheel: 134 } },
  { minor: '3.11', patch: '3.11.15', versionsLine: 38, lines: { ensurepip: 79, install: 97, links: 140, purge: 122, wheel: 134 } },
  { minor: '3.12', patch: '3.12.13', versionsLine: 54, lines: { ensurepip: 79, install: 115, links: 149, purge: 140 } },
  { minor: '3.13', patch: '3.13.14', versionsLine: 75, lines: { ensurepip: 74, install: 110, links: 144, purge: 135 } },
  { minor: '3.14', patch: '3.14.6', versionsLine: 96, lines: { ensurepip: 68, install: 104, links: 138, purge: 129 } },
];

/** The patch release of each Python minor that the table knows, e.g. 3.12 -> 3.12.13. */
export const PYTHON_PATCHES: Readonly<Record<string, string>> = Object.fromEntries(PYTHONS.map((p) => [p.minor, p.patch]));

function pythonLayers({ minor, patch, versionsLine, lines }: (typeof PYTHONS)[number]): Layer[] {
  const file = `P ${minor}/slim-trixie/Dockerfile`;
  // Python 3.13 dropped lib2to3, and with it the 2to3 script.
  const twoToThree = Number(minor.split('.')[1]) <= 12 ? ['2to3', `2to3-${minor}`] : [];
  return [
    ...DEBIAN_TRIXIE_SLIM,
    {
      source: `P versions.json line ${versionsLine} (${patch}); ${file} line 7 (FROM debian:trixie-slim), line ${lines.ensurepip} (--with-ensurepip), line ${lines.install} (make install into /usr/local/bin)`,
      programs: ['python3', `python${minor}`, 'python3-config', `python${minor}-config`, 'pip3', `pip${minor}`, 'pydoc3', `pydoc${minor}`, 'idle3', `idle${minor}`, ...twoToThree],
    },
    { source: `${file} line ${lines.links}: links python, pip, pydoc, idle, python-config`, programs: ['python', 'pip', 'pydoc', 'idle', 'python-config'] },
    ...(lines.wheel ? [{ source: `${file} line ${lines.wheel}: pip installs wheel`, programs: ['wheel'] }] : []),
    // The build's own tools (wget, gcc, make, gnupg) are marked automatic and purged.
  ];
}

function entry(image: string, layers: Layer[], note?: string): [string, ImageContents] {
  const sources = layers.map((l) => l.source);
  return [image, { image, programs: new Set(layers.flatMap((l) => l.programs)), sources: note ? [...sources, note] : sources }];
}

const TABLE = new Map<string, ImageContents>([
  entry('debian:trixie-slim', DEBIAN_TRIXIE_SLIM),
  entry(`${GCLOUD}:stable`, GCLOUD_STABLE, 'G README.md lines 31-34: :stable, :VERSION-stable'),
  ...GCLOUD_VERSIONS.map((v) => entry(`${GCLOUD}:${v}-stable`, GCLOUD_STABLE)),
  entry(`${GCLOUD}:slim`, GCLOUD_SLIM, 'G README.md lines 58-63: :slim, :VERSION-slim'),
  ...GCLOUD_VERSIONS.map((v) => entry(`${GCLOUD}:${v}-slim`, GCLOUD_SLIM)),
  entry(`${GCLOUD}:latest`, GCLOUD_FULL, 'G README.md lines 52-56: :latest, :VERSION'),
  ...GCLOUD_VERSIONS.map((v) => entry(`${GCLOUD}:${v}`, GCLOUD_FULL)),
  ...PYTHONS.flatMap((p) => [`${p.minor}-slim`, `${p.minor}-slim-trixie`, `${p.patch}-slim`, `${p.patch}-slim-trixie`].map((tag) => entry(`python:${tag}`, pythonLayers(p)))),
]);

export class UnknownImageError extends Error {}

/** The contents of IMAGE; an image the table lacks is refused, naming this file. */
export function imageContents(image: string): ImageContents {
  const contents = TABLE.get(image);
  if (!contents) {
    throw new UnknownImageError(
      `image ${image} is not in the test's image table (test/support/images.ts); add it with the programs its Dockerfile puts on PATH and the file and line that say so`,
    );
  }
  return contents;
}

/** Every image the table knows. */
export const knownImages = (): string[] => [...TABLE.keys()];
