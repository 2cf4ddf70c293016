import { Module } from '@nestjs/common';
import { DhcpSnippetsApi } from './dhcp-snippets.api';
import { DhcpSnippetsRepository } from './dhcp-snippets.repository';
import { DhcpSnippetsService } from './dhcp-snippets.service';

/** DHCP snippets (validated against what Kiln's DHCP server can send; not yet pushed to racks). */
@Module({ providers: [DhcpSnippetsRepository, DhcpSnippetsService, DhcpSnippetsApi] })
export class DhcpSnippetsModule {}
