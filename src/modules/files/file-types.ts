export type FileCategory = 'pdf' | 'image';

export interface FileType {
  category: FileCategory;
  ext: string;
  mime: string;
  /** True when the first bytes of a file are this type's signature. */
  matches(head: Buffer): boolean;
}

const startsWith = (head: Buffer, signature: number[], at = 0): boolean =>
  head.length >= at + signature.length && signature.every((byte, i) => head[at + i] === byte);

const ascii = (text: string): number[] => [...Buffer.from(text, 'latin1')];

/**
 * The accepted types, recognised by their magic bytes. SVG is deliberately absent: it is XML that can carry script,
 * and served from our origin it would run with its privileges.
 */
export const FILE_TYPES: readonly FileType[] = [
  { category: 'pdf', ext: 'pdf', mime: 'application/pdf', matches: (h) => startsWith(h, ascii('%PDF-')) },
  {
    category: 'image',
    ext: 'png',
    mime: 'image/png',
    matches: (h) => startsWith(h, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  },
  { category: 'image', ext: 'jpg', mime: 'image/jpeg', matches: (h) => startsWith(h, [0xff, 0xd8, 0xff]) },
  {
    category: 'image',
    ext: 'webp',
    mime: 'image/webp',
    matches: (h) => startsWith(h, ascii('RIFF')) && startsWith(h, ascii('WEBP'), 8),
  },
];

export function detectFileType(head: Buffer): FileType | undefined {
  return FILE_TYPES.find((type) => type.matches(head));
}
